"""Small HTML helpers shared by the admin screens; every value is escaped by ``format_html``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.utils.html import format_html
from django.utils.safestring import SafeString

EMPTY = "-"


def safe_link(url: str, *, label: str | None = None) -> SafeString | str:
    """An <a> for http(s) URLs only: a referral URL comes from a webhook, so its scheme is untrusted."""
    if not url:
        return EMPTY
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        return format_html("{}", url)
    return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, label or url)


def preformatted(text: str) -> SafeString | str:
    """Multi-line text (errors, tracebacks, bodies) kept as written, escaped."""
    if not text:
        return EMPTY
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


def pretty_json(value: Any) -> SafeString | str:
    """A JSON value indented for people; non-ASCII shown as written (Hindi names stay readable)."""
    if value in (None, "", {}, []):
        return EMPTY
    return preformatted(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str))


def pretty_body(raw: bytes) -> SafeString | str:
    """A webhook body: indented when it is JSON, else the decoded text (undecodable bytes replaced)."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return preformatted(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except ValueError:
        return preformatted(text)
