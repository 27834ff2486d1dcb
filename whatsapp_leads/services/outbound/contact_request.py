"""The answer to a ``request_contact_info`` message: a shared contact that fills the lead's phone.

A lead known only by a business-scoped user id can be asked for their number; the reply is a
``contacts`` message whose card says it answers that request. Its phone becomes the lead's phone
when the lead has none (a phone the user or a rep already set is never overwritten).
"""

from __future__ import annotations

from ...models import Lead, LeadHistory, Message
from ..identity import record_change
from ..phones import to_e164

ORIGIN = "contact_request"


def apply_shared_contact(lead: Lead, message: Message) -> bool:
    """True when the message filled the lead's phone."""
    if message.type != "contacts" or lead.phone:
        return False
    for card in message.details.get("cards") or []:
        if not isinstance(card, dict) or card.get("origin") != ORIGIN:
            continue
        for raw in card.get("phones") or []:
            phone = to_e164(str(raw))
            if phone:
                lead.phone = phone[:20]
                lead.save(update_fields=["phone", "updated_at"])
                record_change(
                    lead, kind=LeadHistory.Kind.PHONE,
                    previous="", current=phone, detail="Shared in answer to our request for contact info",
                    at=message.timestamp,
                )  # fmt: skip
                return True
    return False
