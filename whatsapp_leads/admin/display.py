"""Small HTML helpers shared by the admin screens; every value is escaped by ``format_html``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..parsing.safe_text import TOO_DEEP, printable_text

EMPTY = "-"


def safe_link(url: str, *, label: str | None = None) -> SafeString | str:
    """An <a> for http(s) URLs only: a referral URL comes from a webhook, so its scheme is untrusted."""
    if not url:
        return EMPTY
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        return format_html("{}", url)
    return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, label or url)


def preformatted(text: str) -> SafeString | str:
    """Multi-line text (errors, tracebacks, bodies) kept as written, escaped, always encodable."""
    if not text:
        return EMPTY
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', printable_text(text))


def _indented(value: Any, *, sort_keys: bool = True) -> str | None:
    """``value`` as indented JSON; None when it is nested deeper than the encoder recurses."""
    try:  # a lone surrogate comes out raw here; preformatted shows it as the JSON escape it was
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=sort_keys, default=str)
    except (RecursionError, ValueError, TypeError):  # TypeError: keys of mixed types cannot be sorted
        return None


def pretty_json(value: Any) -> SafeString | str:
    """A JSON value indented for people; non-ASCII shown as written (Hindi names stay readable).

    Whatever a row holds renders: lone surrogates as escapes, a value too deep to indent compact.
    """
    if value in (None, "", {}, []):
        return EMPTY
    text = _indented(value)
    if text is None:
        try:
            text = json.dumps(value, default=str)  # the C encoder: far deeper than the indenting one
        except (RecursionError, ValueError):
            text = TOO_DEEP
    return preformatted(text)


def pretty_body(raw: bytes) -> SafeString | str:
    """A webhook body: indented when it is JSON, else the raw text as stored.

    Any stored body renders: undecodable bytes are replaced, lone surrogates shown as escapes, and
    JSON nested too deeply to parse or indent is shown as the raw text.
    """
    text = raw.decode("utf-8", errors="replace")
    try:
        indented = _indented(json.loads(text), sort_keys=False)
    except (ValueError, RecursionError):
        indented = None
    return preformatted(text if indented is None else indented)
