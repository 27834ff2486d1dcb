"""A status's ``pricing`` and ``conversation`` objects, as one ``Billing``.

Meta sends them only with ``sent`` and one of ``delivered``/``read``, and from Graph v24.0 omits
``conversation`` except for free entry points; both are optional and read leniently (a wrong type
reads as absent) because billing facts must never cost us the status itself.
"""

from __future__ import annotations

from typing import Any

from ...parsing import coerce
from ...parsing.types import Billing


def parse_billing(pricing: Any, conversation: Any) -> Billing | None:
    pricing = pricing if isinstance(pricing, dict) else {}
    conversation = conversation if isinstance(conversation, dict) else {}
    if not pricing and not conversation:
        return None
    origin = conversation.get("origin")
    billable = pricing.get("billable")
    expires = conversation.get("expiration_timestamp")
    expires_at = coerce.optional_timestamp(expires)
    return Billing(
        category=coerce.text(pricing.get("category")),
        type=coerce.text(pricing.get("type")),
        model=coerce.text(pricing.get("pricing_model")),
        billable=billable if isinstance(billable, bool) else None,
        conversation_id=coerce.text(conversation.get("id")),
        conversation_origin=coerce.text(origin.get("type")) if isinstance(origin, dict) else "",
        conversation_expires_at=expires_at,
    )
