"""Lead identity: one lead per WhatsApp user, found by business-scoped user id, else WhatsApp id."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..adapter import get_adapter
from ..models import Lead
from ..parsing import Contact, InboundMessage
from .identity import find_and_merge, previous_owner, refresh_identity
from .phones import to_e164


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


def get_or_create_lead(message: InboundMessage) -> tuple[Lead, bool]:
    """The sender's lead, locked for this transaction, and whether it was created now.

    Two workers racing on the same new user both try to insert; the unique identity constraints
    make one of them fail, and that one finds and uses the winner's row.
    """
    contact = message.contact
    lead = find_and_merge(contact, at=message.timestamp)
    if lead is not None:
        changed = refresh_identity(lead, contact, at=message.timestamp)
        if changed:
            lead.save(update_fields=[*changed, "updated_at"])
        return lead, False
    lead = previous_owner(contact, before=message.timestamp)
    if lead is not None:  # sent before the user moved to a new number or id: it is still theirs
        return lead, False

    lead = Lead(
        wa_id=contact.wa_id or None,
        user_id=contact.user_id or None,
        username=contact.username[:100],
        phone=to_e164(contact.wa_id) if contact.wa_id else "",
        name=contact.name[:255],
        first_message=message.text,
        first_message_at=message.timestamp,
        last_message_at=message.timestamp,
    )
    get_adapter().populate_new_lead(lead, message)
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError:
        lead = find_lead(contact, lock=True)
        if lead is None:
            raise
        return lead, False
    return lead, True
