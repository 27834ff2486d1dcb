"""Lead identity: one lead per WhatsApp user, found by business-scoped user id, else WhatsApp id."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..adapter import get_adapter
from ..models import Lead
from ..parsing import Contact, InboundMessage
from .fitting import exact, fit, fitted
from .identity import find_and_merge, previous_owner, refresh_identity
from .location import fill_from_number
from .phones import to_e164
from .rows import build


def find_lead(contact: Contact, *, lock: bool = False) -> Lead | None:
    """The lead for ``contact``: a user-id match wins over a WhatsApp-id match."""
    query = Q(pk__in=[])
    if contact.user_id:
        query |= Q(user_id=contact.user_id)
    if contact.wa_id:
        query |= Q(wa_id=contact.wa_id)
    qs = Lead.objects.filter(query)
    if lock:
        qs = qs.select_for_update()
    matches = list(qs.order_by("created_at", "pk")[:2])
    if contact.user_id:
        for lead in matches:
            if lead.user_id == contact.user_id:
                return lead
    return matches[0] if matches else None


# A collision means another worker committed one of the contact's ids a moment ago; looking again
# sees its row. Two rounds converge (the second finds and, when needed, merges); a third is slack.
ATTEMPTS = 3


def get_or_create_lead(message: InboundMessage) -> tuple[Lead, bool]:
    """The sender's lead, locked for this transaction, and whether it was created now.

    Two workers may write the same identity at once: both insert the same new user, or one gives
    a known lead its new business-scoped id while the other creates a lead by that id (Meta
    withheld the number). The unique identity constraints let one through; the other's attempt
    is rolled back to a savepoint and done again, and now finds the winner's lead: it uses it,
    fills in the ids it was missing, or merges it with the lead the other id names (same person).
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _find_or_create(message)
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _find_or_create(message: InboundMessage) -> tuple[Lead, bool]:
    contact = message.contact
    exact(Lead, "wa_id", contact.wa_id, label="WhatsApp id")  # too long fails before any lookup
    exact(Lead, "user_id", contact.user_id, label="user id")
    lead = find_and_merge(contact, at=message.timestamp)
    if lead is not None:
        changed = refresh_identity(lead, contact, at=message.timestamp)
        if changed:
            lead.save(update_fields=[*changed, "updated_at"])
        return lead, False
    lead = previous_owner(contact, before=message.timestamp)
    if lead is not None:  # sent before the user moved to a new number or id: it is still theirs
        return lead, False

    lead = new_lead(message)
    lead.save()
    return lead, True


def new_lead(message: InboundMessage) -> Lead:
    """The unsaved lead a first message from an unknown sender creates (``new_lead_batch`` inserts many)."""
    contact = message.contact
    wa_id = exact(Lead, "wa_id", contact.wa_id, label="WhatsApp id")
    user_id = exact(Lead, "user_id", contact.user_id, label="user id")
    lead = build(  # Lead(...) for a fraction of its cost (``rows``)
        Lead,
        wa_id=wa_id or None,
        user_id=user_id or None,
        phone=fit(Lead, "phone", to_e164(wa_id) if wa_id else ""),
        **fitted(Lead, username=contact.username, name=contact.name),
        first_message=message.text,
        first_message_at=message.timestamp,
        last_message_at=message.timestamp,
    )
    fill_from_number(lead)  # ad loop: country, and city or carrier, from the number
    get_adapter().populate_new_lead(lead, message)
    return lead
