"""Kind-specific facts of a message, renamed from Meta's fields into ours.

A table maps ``messages[].type`` to an extractor. What it returns is stored as
``Message.details`` so the admin, the API and host code read a location, a shared contact card
or an order without knowing Meta's JSON; the raw object is kept beside it. An unknown type has
no extractor and yields ``{}``; an extractor never raises (a malformed part reads as absent).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Extractor = Callable[[dict[str, Any]], dict[str, Any]]


def _obj(value: Any, key: str) -> dict[str, Any]:
    inner = value.get(key) if isinstance(value, dict) else None
    return inner if isinstance(inner, dict) else {}


def _items(value: Any, key: str) -> list[dict[str, Any]]:
    inner = value.get(key) if isinstance(value, dict) else None
    return [item for item in inner if isinstance(item, dict)] if isinstance(inner, list) else []


def _s(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _location(m: dict[str, Any]) -> dict[str, Any]:
    loc = _obj(m, "location")
    return {
        "latitude": _number(loc.get("latitude")),
        "longitude": _number(loc.get("longitude")),
        "name": _s(loc.get("name")),
        "address": _s(loc.get("address")),
        "url": _s(loc.get("url")),
    }


def card_name(card: dict[str, Any]) -> str:
    name = _obj(card, "name")
    parts = (_s(name.get("first_name")), _s(name.get("last_name")))
    return _s(name.get("formatted_name")) or " ".join(p for p in parts if p)


def _card(card: dict[str, Any]) -> dict[str, Any]:
    phones = [_s(p.get("phone")) or _s(p.get("wa_id")) for p in _items(card, "phones")]
    emails = [_s(e.get("email")) for e in _items(card, "emails")]
    return {
        "name": card_name(card),
        "phones": [p for p in phones if p],
        "whatsapp_ids": [w for w in (_s(p.get("wa_id")) for p in _items(card, "phones")) if w],
        "emails": [e for e in emails if e],
        "organization": _s(_obj(card, "org").get("company")),
        "origin": _s(card.get("origin")),
    }


def _contacts(m: dict[str, Any]) -> dict[str, Any]:
    return {"cards": [_card(card) for card in _items(m, "contacts")]}


def _interactive(m: dict[str, Any]) -> dict[str, Any]:
    inter = _obj(m, "interactive")
    kind = _s(inter.get("type"))
    reply = _obj(inter, kind) if kind else {}
    return {
        "reply_type": kind,
        "reply_id": _s(reply.get("id")),
        "title": _s(reply.get("title")),
        "description": _s(reply.get("description")),
    }


def _button(m: dict[str, Any]) -> dict[str, Any]:
    button = _obj(m, "button")
    return {"payload": _s(button.get("payload")), "text": _s(button.get("text"))}


def _reaction(m: dict[str, Any]) -> dict[str, Any]:
    reaction = _obj(m, "reaction")
    emoji = _s(reaction.get("emoji"))
    # Meta omits ``emoji`` when a reaction is removed; some relays send it empty.
    return {"emoji": emoji, "removed": not emoji, "reacted_to": _s(reaction.get("message_id"))}


def order_totals(items: list[dict[str, Any]]) -> dict[str, str]:
    """Sum of quantity x unit price, per currency; lines with unreadable numbers are left out."""
    totals: dict[str, Decimal] = {}
    for item in items:
        quantity, price = _decimal(item.get("quantity")), _decimal(item.get("unit_price"))
        if quantity is None or price is None:
            continue
        currency = item.get("currency") or ""
        totals[currency] = totals.get(currency, Decimal(0)) + quantity * price
    return {currency: format(total, "f") for currency, total in totals.items()}


def _order(m: dict[str, Any]) -> dict[str, Any]:
    order = _obj(m, "order")
    items = [
        {
            "product_id": _s(item.get("product_retailer_id")),
            "quantity": _s(item.get("quantity")),
            "unit_price": _s(item.get("item_price")),
            "currency": _s(item.get("currency")),
        }
        for item in _items(order, "product_items")
    ]
    return {
        "catalog_id": _s(order.get("catalog_id")),
        "note": _s(order.get("text")),
        "items": items,
        "totals": order_totals(items),
    }


def _system(m: dict[str, Any]) -> dict[str, Any]:
    system = _obj(m, "system")
    return {
        "system_type": _s(system.get("type")),
        "body": _s(system.get("body")),
        "new_wa_id": _s(system.get("wa_id")) or _s(system.get("new_wa_id")),
        "new_user_id": _s(system.get("user_id")),
        "previous_user_id": _s(system.get("previous_user_id")),
    }


def _unsupported(m: dict[str, Any]) -> dict[str, Any]:
    return {"unsupported_type": _s(_obj(m, "unsupported").get("type"))}


def _audio(m: dict[str, Any]) -> dict[str, Any]:
    return {"voice": _obj(m, "audio").get("voice") is True}


def _sticker(m: dict[str, Any]) -> dict[str, Any]:
    return {"animated": _obj(m, "sticker").get("animated") is True}


EXTRACTORS: dict[str, Extractor] = {
    "audio": _audio,
    "sticker": _sticker,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
}


def message_details(kind: str, message: dict[str, Any]) -> dict[str, Any]:
    """Our names for what a ``kind`` message carries; ``{}`` for kinds with nothing beyond text."""
    extractor = EXTRACTORS.get(kind)
    if extractor is None:
        return {}
    try:
        return extractor(message)
    except Exception:  # a malformed part must not lose the message; the raw object is kept
        return {}
