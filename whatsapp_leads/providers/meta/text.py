"""One readable line per message type, for lead lists and transcripts.

A table maps Meta's ``type`` to a reader; a type we do not know yet reads as ``[type]`` rather
than raising, so a new kind of message is stored on the day Meta starts sending it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ...parsing import coerce
from .kinds import message_details

Reader = Callable[[dict[str, Any]], str]


def _text(m: dict[str, Any]) -> str:
    return coerce.text(coerce.obj(m, "text").get("body"))


def _media(kind: str, label: str) -> Reader:
    def read(m: dict[str, Any]) -> str:
        media = coerce.obj(m, kind)
        caption = coerce.text(media.get("caption"))
        name = coerce.text(media.get("filename"))
        label_ = "Voice message" if kind == "audio" and media.get("voice") is True else label
        if kind == "sticker" and media.get("animated") is True:
            label_ = "Animated sticker"
        detail = f"{name}: {caption}" if name and caption else caption or name
        return f"[{label_}] {detail}".strip()

    return read


def _location(m: dict[str, Any]) -> str:
    loc = coerce.obj(m, "location")
    place = ", ".join(p for p in (coerce.text(loc.get("name")), coerce.text(loc.get("address"))) if p)
    coords = f"{coerce.text(loc.get('latitude'))}, {coerce.text(loc.get('longitude'))}".strip(", ")
    if place and coords:
        return f"[Location] {place} ({coords})"
    return f"[Location] {place or coords}".strip()


def _button(m: dict[str, Any]) -> str:
    button = coerce.obj(m, "button")
    return coerce.text(button.get("text") or button.get("payload"))


def _interactive(m: dict[str, Any]) -> str:
    inter = coerce.obj(m, "interactive")
    kind = coerce.text(inter.get("type"))
    reply = coerce.obj(inter, kind)
    if kind == "nfm_reply":
        return _form_reply(reply)
    title = coerce.text(reply.get("title"))
    return title or f"[Interactive {kind or 'reply'}]"


def _form_reply(reply: dict[str, Any]) -> str:
    """The answers themselves, so a list shows what the person filled in."""
    answers = reply.get("response_json")
    try:
        answers = json.loads(answers) if isinstance(answers, str) else answers
    except (ValueError, RecursionError):
        return "[Form reply] (answers could not be read)"
    if not isinstance(answers, dict):
        return f"[Form reply] {coerce.text(reply.get('body') or reply.get('name'))}".strip()
    shown = [f"{k}: {coerce.text(v)}" for k, v in answers.items() if k != "flow_token" and coerce.text(v)]
    return f"[Form reply] {', '.join(shown) or coerce.text(reply.get('body'))}".strip()


def _reaction(m: dict[str, Any]) -> str:
    emoji = coerce.text(coerce.obj(m, "reaction").get("emoji"))
    return f"Reacted {emoji}" if emoji else "Removed a reaction"


def _contacts(m: dict[str, Any]) -> str:
    cards = message_details("contacts", m).get("cards", [])
    shown = []
    for card in cards:
        reach = ", ".join([*card["phones"], *card["emails"]])
        shown.append(f"{card['name'] or 'Unnamed'}{f' ({reach})' if reach else ''}")
    return f"[Contact] {'; '.join(shown)}".strip()


def _order(m: dict[str, Any]) -> str:
    order = message_details("order", m)
    items = order.get("items", [])
    totals = ", ".join(f"{amount} {currency}".strip() for currency, amount in order.get("totals", {}).items())
    lines = ", ".join(
        f"{item.get('quantity') or '?'} × {item.get('product_id') or '?'}"
        + (
            f" at {item.get('unit_price')} {item.get('currency', '')}".rstrip()
            if item.get("unit_price")
            else ""
        )
        for item in items
        if isinstance(item, dict)
    )
    parts = [
        f"{len(items)} item(s): {lines}" if lines else f"{len(items)} item(s)",
        totals,
        order.get("note", ""),
    ]
    return f"[Order] {' · '.join(p for p in parts if p)}"


SYSTEM_LABELS = {
    "user_changed_number": "Changed their WhatsApp number",
    "user_changed_user_id": "Their WhatsApp user id changed",
    "customer_identity_changed": "Their security identity changed",
}


def _system(m: dict[str, Any]) -> str:
    system = coerce.obj(m, "system")
    body = coerce.text(system.get("body")) or SYSTEM_LABELS.get(coerce.text(system.get("type")), "")
    return f"[System] {body}".strip()


def _unsupported(m: dict[str, Any]) -> str:
    inner = coerce.text(coerce.obj(m, "unsupported").get("type"))
    errors = m.get("errors") if isinstance(m.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    why = coerce.text(first.get("title") or first.get("message"))
    code = coerce.text(first.get("code"))
    reason = f" {why}{f' ({code})' if code else ''}" if why else ""
    return f"[Unsupported message{': ' + inner if inner else ''}]{reason}"


def _unknown(kind: str, m: dict[str, Any]) -> str:
    """A type we do not know yet: its name, and any text it seems to carry."""
    inner = coerce.obj(m, kind)
    text = coerce.text(inner.get("body") or inner.get("text") or inner.get("caption"))
    return f"[{kind}] {text}".strip()


READERS: dict[str, Reader] = {
    "text": _text,
    "image": _media("image", "Image"),
    "video": _media("video", "Video"),
    "audio": _media("audio", "Audio"),
    "document": _media("document", "Document"),
    "sticker": _media("sticker", "Sticker"),
    "location": _location,
    "button": _button,
    "interactive": _interactive,
    "reaction": _reaction,
    "contacts": _contacts,
    "order": _order,
    "system": _system,
    "request_welcome": lambda m: "[Opened the chat]",
    "unsupported": _unsupported,
}


def readable_text(kind: str, message: dict[str, Any]) -> str:
    """The line a person reads for ``message``; never raises."""
    reader = READERS.get(kind)
    try:
        return reader(message) if reader is not None else _unknown(kind, message)
    except Exception:  # a reader bug must not lose the message; the raw payload is kept beside it
        return f"[{kind}]"
