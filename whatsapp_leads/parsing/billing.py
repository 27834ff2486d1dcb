"""A status's ``pricing`` and ``conversation`` objects, as one ``Billing``.

Meta sends them only with ``sent`` and one of ``delivered``/``read``, and from Graph v24.0 omits
``conversation`` except for free entry points; both are optional and read leniently (a wrong type
reads as absent) because billing facts must never cost us the status itself.
"""

from __future__ import annotations

from typing import Any

from .types import Billing, TimeParser


def _s(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value)


def parse_billing(pricing: Any, conversation: Any, *, parse_time: TimeParser) -> Billing | None:
    pricing = pricing if isinstance(pricing, dict) else {}
    conversation = conversation if isinstance(conversation, dict) else {}
    if not pricing and not conversation:
        return None
    origin = conversation.get("origin")
    billable = pricing.get("billable")
    expires = conversation.get("expiration_timestamp")
    try:
        expires_at = parse_time(expires) if expires not in (None, "") else None
    except (TypeError, ValueError):
        expires_at = None
    return Billing(
        category=_s(pricing.get("category")),
        type=_s(pricing.get("type")),
        model=_s(pricing.get("pricing_model")),
        billable=billable if isinstance(billable, bool) else None,
        conversation_id=_s(conversation.get("id")),
        conversation_origin=_s(origin.get("type")) if isinstance(origin, dict) else "",
        conversation_expires_at=expires_at,
    )
