"""What a lead says about itself: the ad URL's ``utm_*`` (and other) query parameters, and the
reference code of a prefilled first message ("[HL-DIWALI] I want a home loan").

The customer's design: "add UTM parameters to ad; parse from initial message or referral data".
Ad URLs arrive mangled in every way a link can be: HTML-escaped ``&amp;``, percent-encoded twice,
``+`` for spaces, parameters after the ``#``, broken ``%`` sequences, bytes that are not UTF-8.
Parsing never raises; keys are lower-cased, the first value of a repeated key wins, and the
count and length of what is kept are bounded (the text comes from the internet).
First touch wins: values already on the lead are not overwritten by a later ad.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..models import Lead
from ..parsing import Referral
from ..parsing.safe_text import storable

MAX_KEYS = 30
MAX_KEY = 64
MAX_VALUE = 200
REF_KEY = "ref"
# "[HL-DIWALI]", "[ hl-diwali ]": a code of letters, digits, "-", "_" and "." in square brackets.
REFERENCE = re.compile(r"\[\s*([A-Za-z0-9][A-Za-z0-9_.\-]{0,38})\s*\]")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def _decode(text: str) -> str:
    """Undo up to two extra rounds of percent-encoding (``%2520`` -> ``%20`` -> `` ``)."""
    for _ in range(2):
        if not _PERCENT.search(text):
            break
        text = unquote(text, errors="replace")
    return text


def _clean(text: str, *, limit: int) -> str:
    text = storable(text).replace("\x00", "")
    return " ".join(text.split())[:limit]


def from_url(url: str) -> dict[str, str]:
    """Query parameters of ``url`` (and of its fragment), decoded; {} for anything unreadable."""
    if not url or not isinstance(url, str):
        return {}
    text = url.strip().replace("&amp;", "&").replace("&#38;", "&")
    if "?" not in text and "%3F" in text.upper():
        text = _decode(text)  # the whole URL was encoded once more: its "?" is "%3F"
    try:
        parts = urlsplit(text)
    except ValueError:
        return {}
    fragment_query = parts.fragment.split("?", 1)[1] if "?" in parts.fragment else parts.fragment
    pairs = parse_qsl(parts.query, keep_blank_values=False, errors="replace")
    if "=" in fragment_query:
        pairs += parse_qsl(fragment_query, keep_blank_values=False, errors="replace")
    found: dict[str, str] = {}
    for key, value in pairs:
        key = _clean(_decode(key), limit=MAX_KEY).lower()
        value = _clean(_decode(value), limit=MAX_VALUE)
        if key and value and key not in found and len(found) < MAX_KEYS:
            found[key] = value
    return found


def reference_code(text: str) -> str:
    """The first ``[CODE]`` of a message, upper-cased; "" when there is none."""
    match = REFERENCE.search(text or "")
    return match.group(1).upper() if match else ""


def parameters(*, referral: Referral | None, text: str) -> dict[str, str]:
    found = from_url(referral.source_url) if referral is not None else {}
    code = reference_code(text)
    if code:
        found.setdefault(REF_KEY, code)
    return found


def note(lead: Lead, *, referral: Referral | None, text: str, pending: list[str] | None = None) -> bool:
    """Add what the referral's URL and the message carry to ``lead.utm``; True when it changed.

    With ``pending`` the field is added to it for the caller's single save of the lead.
    """
    found = parameters(referral=referral, text=text)
    current: dict[str, Any] = lead.utm if isinstance(lead.utm, dict) else {}
    merged = {**found, **current}  # first touch wins
    if merged == current:
        return False
    lead.utm = merged
    if pending is not None:
        pending.append("utm")
    else:
        lead.save(update_fields=["utm", "updated_at"])
    return True


def routing_text(lead: Lead, text: str) -> str:
    """The text keyword routing matches: the message, then the lead's UTM values (utm_campaign=diwali)."""
    values = [str(v) for v in (lead.utm or {}).values()] if isinstance(lead.utm, dict) else []
    return "\n".join([text, *values])
