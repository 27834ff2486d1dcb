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

from ...parsing import coerce

Extractor = Callable[[dict[str, Any]], dict[str, Any]]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _location(m: dict[str, Any]) -> dict[str, Any]:
    loc = coerce.obj(m, "location")
    return {
        "latitude": coerce.number(loc.get("latitude")),
        "longitude": coerce.number(loc.get("longitude")),
        "name": coerce.text(loc.get("name")),
        "address": coerce.text(loc.get("address")),
        "url": coerce.text(loc.get("url")),
    }


def card_name(card: dict[str, Any]) -> str:
    name = coerce.obj(card, "name")
    parts = (coerce.text(name.get("first_name")), coerce.text(name.get("last_name")))
    return coerce.text(name.get("formatted_name")) or " ".join(p for p in parts if p)


def _card(card: dict[str, Any]) -> dict[str, Any]:
    phones = [
        coerce.text(p.get("phone")) or coerce.text(p.get("wa_id")) for p in coerce.items(card, "phones")
    ]
    emails = [coerce.text(e.get("email")) for e in coerce.items(card, "emails")]
    return {
        "name": card_name(card),
        "phones": [p for p in phones if p],
        "whatsapp_ids": [w for w in (coerce.text(p.get("wa_id")) for p in coerce.items(card, "phones")) if w],
        "emails": [e for e in emails if e],
        "organization": coerce.text(coerce.obj(card, "org").get("company")),
        "origin": coerce.text(card.get("origin")),
    }


def _contacts(m: dict[str, Any]) -> dict[str, Any]:
    return {"cards": [_card(card) for card in coerce.items(m, "contacts")]}


def _interactive(m: dict[str, Any]) -> dict[str, Any]:
    inter = coerce.obj(m, "interactive")
    kind = coerce.text(inter.get("type"))
    reply = coerce.obj(inter, kind) if kind else {}
    return {
        "reply_type": kind,
        "reply_id": coerce.text(reply.get("id")),
        "title": coerce.text(reply.get("title")),
        "description": coerce.text(reply.get("description")),
    }


def _button(m: dict[str, Any]) -> dict[str, Any]:
    button = coerce.obj(m, "button")
    return {"payload": coerce.text(button.get("payload")), "text": coerce.text(button.get("text"))}


def _reaction(m: dict[str, Any]) -> dict[str, Any]:
    reaction = coerce.obj(m, "reaction")
    emoji = coerce.text(reaction.get("emoji"))
    # Meta omits ``emoji`` when a reaction is removed; some relays send it empty.
    return {"emoji": emoji, "removed": not emoji, "reacted_to": coerce.text(reaction.get("message_id"))}


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
    order = coerce.obj(m, "order")
    items = [
        {
            "product_id": coerce.text(item.get("product_retailer_id")),
            "quantity": coerce.text(item.get("quantity")),
            "unit_price": coerce.text(item.get("item_price")),
            "currency": coerce.text(item.get("currency")),
        }
        for item in coerce.items(order, "product_items")
    ]
    return {
        "catalog_id": coerce.text(order.get("catalog_id")),
        "note": coerce.text(order.get("text")),
        "items": items,
        "totals": order_totals(items),
    }


def _system(m: dict[str, Any]) -> dict[str, Any]:
    system = coerce.obj(m, "system")
    return {
        "system_type": coerce.text(system.get("type")),
        "body": coerce.text(system.get("body")),
        "new_wa_id": coerce.text(system.get("wa_id")) or coerce.text(system.get("new_wa_id")),
        "new_user_id": coerce.text(system.get("user_id")),
        "previous_user_id": coerce.text(system.get("previous_user_id")),
    }


def _unsupported(m: dict[str, Any]) -> dict[str, Any]:
    return {"unsupported_type": coerce.text(coerce.obj(m, "unsupported").get("type"))}


def _audio(m: dict[str, Any]) -> dict[str, Any]:
    return {"voice": coerce.obj(m, "audio").get("voice") is True}


def _sticker(m: dict[str, Any]) -> dict[str, Any]:
    return {"animated": coerce.obj(m, "sticker").get("animated") is True}


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
