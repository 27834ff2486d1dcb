"""Strings a database can store and a page can send, whatever a webhook body held.

JSON may legally carry ``\\u0000`` and lone surrogates (``"\\ud800"``). Neither survives the trip
to a row: PostgreSQL text refuses NUL, no database driver encodes a lone surrogate as UTF-8, and
PostgreSQL jsonb refuses both, so a message carrying one would fail on every retry. And a value
that did get stored (SQLite keeps JSON as escaped text, so its JSON columns *can* hold them)
must still render: an HTML page or an API answer is UTF-8, and one lone surrogate in it is a 500.

``storable`` is for the way in (``jsonbody`` applies it to a decoded body: replaced by U+FFFD,
the rest of the message kept); ``printable`` is for the way out (shown as a visible ``\\ud800`` escape, never a crash).
"""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD (a str never holds paired ones)."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def printable_text(text: str) -> str:
    """``text`` safe to encode as UTF-8: a lone surrogate becomes its visible ``\\udXXX`` escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


TOO_DEEP = "[nested too deeply to show]"


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return printable_text(value)
    if isinstance(value, list):
        return [_printable(item) for item in value]
    if isinstance(value, dict):
        return {printable_text(str(k)): _printable(v) for k, v in value.items()}
    return value


def printable(value: Any) -> Any:
    """``value`` (a stored JSON value) with every string made printable, keys included.

    A value nested deeper than Python recurses (legal JSON, and SQLite stores it) becomes the
    ``TOO_DEEP`` note instead of a RecursionError.
    """
    try:
        return _printable(value)
    except RecursionError:
        return TOO_DEEP
