"""Lead identity: one lead per WhatsApp user, found by business-scoped user id, else WhatsApp id."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..adapter import get_adapter
from ..models import Lead
from ..parsing import Contact, InboundMessage
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


def _fill_identity(lead: Lead, contact: Contact) -> list[str]:
    """Add what we learn about a known lead (a user id first seen, a phone, a new profile name)."""
    changed: list[str] = []
    if contact.user_id and not lead.user_id and not Lead.objects.filter(user_id=contact.user_id).exists():
        lead.user_id = contact.user_id
        changed.append("user_id")
    if contact.wa_id and not lead.wa_id and not Lead.objects.filter(wa_id=contact.wa_id).exists():
        lead.wa_id = contact.wa_id
        changed.append("wa_id")
    if contact.wa_id and not lead.phone:
        phone = to_e164(contact.wa_id)
        if phone:
            lead.phone = phone
            changed.append("phone")
    if contact.username and contact.username != lead.username:
        lead.username = contact.username[:100]
        changed.append("username")
    if contact.name and contact.name != lead.name:
        lead.name = contact.name[:255]
        changed.append("name")
    return changed


def get_or_create_lead(message: InboundMessage) -> tuple[Lead, bool]:
    """The sender's lead, locked for this transaction, and whether it was created now.

    Two workers racing on the same new user both try to insert; the unique identity constraints
    make one of them fail, and that one finds and uses the winner's row.
    """
    contact = message.contact
    lead = find_lead(contact, lock=True)
    if lead is not None:
        changed = _fill_identity(lead, contact)
        if changed:
            lead.save(update_fields=[*changed, "updated_at"])
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
