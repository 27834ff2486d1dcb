"""Keyword routing: a chat that came without an ad joins the campaign its first message asks for.

A campaign's ``keywords`` is a list a manager types: words and phrases separated by commas or
lines, matched in any case on whole words ("loan" matches "Need a LOAN?" but not "loaner"), and
``/regular expressions/`` between slashes for anything else (a "/" inside one is written "\\/").
When several campaigns match, the highest ``keyword_priority`` wins, then the oldest campaign.

Patterns are written by staff, not by the people who message us; a broken one is refused by the
model's validator, and if one slips through (an old row, a raw UPDATE) it is skipped and logged,
never allowed to fail a lead.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from ...models import Campaign, Lead

logger = logging.getLogger(__name__)

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


def first_match(text: str, keywords: str) -> str | None:
    """The first entry of ``keywords`` that ``text`` matches, as typed; None when none does."""
    for keyword in parse_keywords(keywords):
        if keyword.matches(text):
            return keyword.text
    return None


@dataclass(frozen=True, slots=True)
class KeywordClaim:
    """A campaign that claimed a chat, and the entry that matched."""

    campaign: Campaign
    keyword: str

    @property
    def reason(self) -> str:
        return f"First message matched '{self.keyword}' of campaign '{self.campaign}'. "


def claiming_campaign(text: str) -> KeywordClaim | None:
    """The active campaign whose keywords ``text`` matches, by priority; one query."""
    if not text.strip():
        return None
    campaigns = (
        Campaign.objects.filter(is_active=True)
        .exclude(keywords="")
        .order_by("-keyword_priority", "created_at", "id")
        .only("id", "name", "keywords", "keyword_priority")
    )
    for campaign in campaigns:
        for keyword in parse_keywords(campaign.keywords):
            if keyword.pattern is None:
                logger.warning("campaign %s: skipping keyword %s", campaign.pk, keyword.error)
            elif keyword.matches(text):
                return KeywordClaim(campaign=campaign, keyword=keyword.text)
    return None


def claim_organic_lead(lead: Lead, *, text: str) -> KeywordClaim | None:
    """Give a new lead that came without an ad the campaign its first message asks for.

    Only organic chats: a lead from an ad belongs to the ad's campaign, which the ad lookup fills
    in later (``campaign_sync.link_leads``) when it is not known yet.
    """
    if lead.campaign_id is not None or lead.referral:
        return None
    claim = claiming_campaign(text)
    if claim is not None:
        lead.campaign = claim.campaign
        lead.save(update_fields=["campaign", "updated_at"])
    return claim
