"""The kind-specific parts of a transcript bubble: the file, the quoted reply, the form answers.

Kept apart from ``transcript.py`` so that file stays about laying out the thread; everything here
reads our own columns (``media_file``, ``reply_to``, ``form_response``, ``details``), never
Meta's JSON, and returns plain strings that the template escapes. Files are linked through the
lead's permission-checked media view, never ``media_file.url``: the storage is private.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from ..models import Message
from ..parsing.safe_text import printable_text

INLINE_KINDS = ("image", "sticker")
QUOTE_CHARS = 80


def media_url(message: Message, *, site: str = "admin") -> str:
    """The admin URL that serves the message's file to whoever may view its lead."""
    return reverse(f"{site}:whatsapp_leads_lead_media", args=[message.conversation.lead_id, message.pk])


def _media(message: Message, *, site: str) -> dict[str, Any]:
    if not message.media_id:
        return {}
    name = message.media_filename or message.media_caption or f"{message.type} file"
    if message.media_status == Message.MediaStatus.DOWNLOADED and message.media_file:
        inline = message.type in INLINE_KINDS or message.media_mime_type.startswith("image/")
        return {"media_url": media_url(message, site=site), "media_image": inline, "media_name": name}
    if message.media_status == Message.MediaStatus.FAILED:
        return {"media_note": f"File not available: {message.media_error}"}
    if message.media_status == Message.MediaStatus.EXPIRED:
        return {"media_note": "File deleted after the retention period (MEDIA_RETENTION_DAYS)"}
    return {"media_note": "File not downloaded yet"}


def _quote(message: Message) -> str:
    """The quoted message's text; never another lead's (a link stored before replies were per lead)."""
    quoted = message.reply_to if message.reply_to_id else None
    if quoted is not None and quoted.conversation.lead_id == message.conversation.lead_id:
        text = quoted.text or f"[{quoted.type}]"
        return text if len(text) <= QUOTE_CHARS else f"{text[: QUOTE_CHARS - 1]}…"
    return "a message not stored here" if message.reply_to_wamid else ""


def _map_url(details: dict[str, Any]) -> str:
    lat, lon = details.get("latitude"), details.get("longitude")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
        return ""
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def _answers(message: Message) -> tuple[tuple[str, str], ...]:
    form = message.form_response if isinstance(message.form_response, dict) else {}
    return tuple(
        (printable_text(str(key)), printable_text(value if isinstance(value, str) else str(value)))
        for key, value in form.items()
    )


def _order_lines(details: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """(product id, quantity, unit price with currency) per ordered item."""
    found = details.get("items")
    items: list[Any] = found if isinstance(found, list) else []
    return tuple(
        (
            printable_text(str(item.get("product_id", ""))),
            printable_text(str(item.get("quantity", ""))),
            printable_text(f"{item.get('unit_price', '')} {item.get('currency', '')}".strip()),
        )
        for item in items
        if isinstance(item, dict)
    )


def kind_parts(message: Message, *, site: str = "admin") -> dict[str, Any]:
    """Extra ``TranscriptLine`` fields for ``message``'s kind; empty for plain text.

    ``site`` is the admin site's URL namespace the file links point into.
    """
    parts: dict[str, Any] = _media(message, site=site)
    quote = _quote(message)
    if quote:
        parts["reply_to"] = quote
    if message.frequently_forwarded:
        parts["forwarded"] = "Forwarded many times"
    elif message.forwarded:
        parts["forwarded"] = "Forwarded"
    if message.type == "location":
        parts["map_url"] = _map_url(message.details if isinstance(message.details, dict) else {})
    if message.type == "order":
        parts["order_lines"] = _order_lines(message.details if isinstance(message.details, dict) else {})
    answers = _answers(message)
    if answers:
        parts["answers"] = answers
    if message.form_error:
        parts["form_error"] = message.form_error
    return parts
