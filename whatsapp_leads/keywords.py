"""Keyword lists as managers type them: words, phrases and ``/regular expressions/``.

Pure text handling with no models, so both the model's validator and the routing service use
it without the models layer importing a service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# "/pattern/" followed by the end of the line or a comma; "\/" and other escapes stay inside.
_REGEX_ENTRY = re.compile(r"/((?:\\.|[^\\/])+)/\s*(?:,|$)")


def _joins_word(char: str) -> bool:
    """Whether ``char`` continues a word: letters, digits, "_", and combining marks.

    Marks matter in Indian scripts: in "लोनी" the final vowel sign is part of the word, so the
    keyword "लोन" must not match there, yet ``\\w`` alone does not count marks as word characters.
    """
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


@dataclass(frozen=True, slots=True)
class Keyword:
    """One entry as typed, and the pattern it stands for (None when it does not compile)."""

    text: str
    pattern: re.Pattern[str] | None
    error: str = ""
    whole_word: bool = False

    def matches(self, text: str) -> bool:
        if self.pattern is None:
            return False
        if not self.whole_word:
            return self.pattern.search(text) is not None
        pos = 0
        while (found := self.pattern.search(text, pos)) is not None:
            start, end = found.span()
            if not (start > 0 and _joins_word(text[start - 1])) and not (
                end < len(text) and _joins_word(text[end])
            ):
                return True
            pos = start + 1
        return False


def _word(word: str) -> Keyword:
    # Inner spaces match any run of whitespace, so "home loan" matches "home  loan" and "home\nloan".
    body = r"\s+".join(re.escape(part) for part in word.split())
    return Keyword(text=word, pattern=re.compile(body, re.IGNORECASE), whole_word=True)


def _regex(source: str, text: str) -> Keyword:
    try:
        return Keyword(text=text, pattern=re.compile(source, re.IGNORECASE))
    except re.error as exc:
        return Keyword(text=text, pattern=None, error=f"{text}: {exc}")


def parse_keywords(value: str) -> Iterator[Keyword]:
    """Every entry of a ``keywords`` text, in order."""
    for line in (value or "").splitlines():
        rest = line.strip()
        while rest:
            if rest.startswith("/"):
                match = _REGEX_ENTRY.match(rest)
                if match is None:
                    entry, _, rest = rest.partition(",")
                    yield Keyword(
                        text=entry.strip(),
                        pattern=None,
                        error=f"{entry.strip()}: a /regular expression/ must end with a slash",
                    )
                else:
                    yield _regex(match.group(1), match.group(0).rstrip(", \t"))
                    rest = rest[match.end() :]
            else:
                entry, _, rest = rest.partition(",")
                if entry.strip():
                    yield _word(entry.strip())
            rest = rest.strip()


def keyword_errors(value: str) -> list[str]:
    """What is wrong with a ``keywords`` text, one message per broken entry (empty: nothing)."""
    return [k.error for k in parse_keywords(value) if k.error]
