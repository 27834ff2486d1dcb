"""One readable line per message type, for lead lists and transcripts.

A table maps Meta's ``type`` to a reader; a type we do not know yet reads as ``[type]`` rather
than raising, so a new kind of message is stored on the day Meta starts sending it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Reader = Callable[[dict[str, Any]], str]


def _obj(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    return value if isinstance(value, dict) else {}


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _text(m: dict[str, Any]) -> str:
    return _s(_obj(m, "text").get("body"))


def _media(kind: str, label: str) -> Reader:
    def read(m: dict[str, Any]) -> str:
        media = _obj(m, kind)
        caption = _s(media.get("caption"))
        name = _s(media.get("filename"))
        label_ = "Voice message" if kind == "audio" and media.get("voice") is True else label
        detail = caption or name
        return f"[{label_}] {detail}".strip()

    return read


def _location(m: dict[str, Any]) -> str:
    loc = _obj(m, "location")
    place = ", ".join(p for p in (_s(loc.get("name")), _s(loc.get("address"))) if p)
    coords = f"{_s(loc.get('latitude'))}, {_s(loc.get('longitude'))}".strip(", ")
    return f"[Location] {place or coords}".strip()


def _button(m: dict[str, Any]) -> str:
    button = _obj(m, "button")
    return _s(button.get("text") or button.get("payload"))


def _interactive(m: dict[str, Any]) -> str:
    inter = _obj(m, "interactive")
    kind = _s(inter.get("type"))
    reply = _obj(inter, kind)
    if kind == "nfm_reply":
        return f"[Form reply] {_s(reply.get('body') or reply.get('name'))}".strip()
    title = _s(reply.get("title"))
    return title or f"[Interactive {kind or 'reply'}]"


def _reaction(m: dict[str, Any]) -> str:
    emoji = _s(_obj(m, "reaction").get("emoji"))
    return f"Reacted {emoji}" if emoji else "Removed a reaction"


def _contacts(m: dict[str, Any]) -> str:
    cards = m.get("contacts") if isinstance(m.get("contacts"), list) else []
    names = [_s(_obj(c, "name").get("formatted_name")) for c in cards if isinstance(c, dict)]
    return f"[Contact] {', '.join(n for n in names if n)}".strip()


def _order(m: dict[str, Any]) -> str:
    order = _obj(m, "order")
    items = order.get("product_items") if isinstance(order.get("product_items"), list) else []
    return f"[Order] {len(items)} item(s) {_s(order.get('text'))}".strip()


def _system(m: dict[str, Any]) -> str:
    return f"[System] {_s(_obj(m, 'system').get('body'))}".strip()


def _unsupported(m: dict[str, Any]) -> str:
    inner = _s(_obj(m, "unsupported").get("type"))
    return f"[Unsupported message{': ' + inner if inner else ''}]"


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
    if reader is None:
        return f"[{kind}]"
    try:
        return reader(message)
    except Exception:  # a reader bug must not lose the message; the raw payload is kept beside it
        return f"[{kind}]"
