"""Conversations and the messages in them; a message's ``wamid`` makes storing it idempotent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from ..models import Conversation, Lead, Message, WebhookEvent
from ..parsing import Business, InboundMessage
from ..providers.registry import DEFAULT_PROVIDER
from . import lead_activity
from .fitting import exact, fit
from .kinds import link_replies, stored_fields
from .rows import build


def get_conversation(
    lead: Lead, business: Business, *, at: datetime, lead_is_new: bool = False
) -> Conversation:
    """The lead's thread with this business number, created on its first message.

    ``lead_is_new``: the lead was inserted by this transaction, so no other worker can see it
    until commit: it has no thread yet and nobody else can add one. The thread is inserted
    straight away, without the lookup and the savepoint of ``get_or_create``.
    """
    phone_number_id, defaults = _thread_values(business, at=at)
    if lead_is_new:
        return Conversation.objects.create(lead=lead, phone_number_id=phone_number_id, **defaults)
    conversation, _ = Conversation.objects.get_or_create(
        lead=lead, phone_number_id=phone_number_id, defaults=defaults
    )
    return conversation


def _thread_values(business: Business, *, at: datetime) -> tuple[str, dict[str, Any]]:
    phone_number_id = exact(
        Conversation, "phone_number_id", business.phone_number_id, label="business phone number id"
    )
    defaults = {
        "provider": business.provider or DEFAULT_PROVIDER,
        "display_phone_number": fit(Conversation, "display_phone_number", business.display_phone_number),
        "waba_id": exact(Conversation, "waba_id", business.waba_id, label="business account id"),
        "started_at": at,
    }
    return phone_number_id, defaults


def new_thread(lead: Lead, business: Business, *, at: datetime) -> Conversation:
    """The unsaved first thread of a lead not yet stored (``new_lead_batch`` inserts many at once)."""
    phone_number_id, defaults = _thread_values(business, at=at)
    return build(Conversation, lead=lead, phone_number_id=phone_number_id, **defaults)


def inbound_row(
    conversation: Conversation, message: InboundMessage, *, event: WebhookEvent | None = None
) -> Message:
    """The unsaved row of an inbound message (``store_inbound`` saves one, ``inbound_batch`` many)."""
    referral = message.referral
    media = message.media
    return build(  # Message(...) for a fraction of its cost (``rows``)
        Message,
        wamid=exact(Message, "wamid", message.wamid, label="message id"),
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        type=fit(Message, "type", message.type),
        text=message.text,
        timestamp=message.timestamp,
        status=Message.Status.RECEIVED,
        media_id=exact(Message, "media_id", media.id, label="media id") if media else "",
        media_mime_type=fit(Message, "media_mime_type", media.mime_type) if media else "",
        referral=referral.raw if referral else {},
        ctwa_clid=exact(Message, "ctwa_clid", referral.ctwa_clid, label="click id (ctwa_clid)")
        if referral
        else "",
        payload=message.raw,
        webhook_event=event,
        **stored_fields(message),
    )


def store_inbound(
    conversation: Conversation, message: InboundMessage, *, event: WebhookEvent | None = None
) -> Message | None:
    """Insert the message; None when its wamid is already stored (a redelivery)."""
    row = inbound_row(conversation, message, event=event)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        if Message.objects.filter(wamid=message.wamid).exists():
            return None
        raise
    return row


def count_message(conversation: Conversation, message: Message, *, save: bool = True) -> list[str]:
    """Update the thread's metrics; the caller holds the lead's lock, so counts do not race.

    Returns the changed fields; ``save=False`` leaves saving them to the caller (the inbound path
    hands them to ``engagement.note_message``, which saves the thread once).
    """
    at = message.timestamp
    conversation.message_count += 1
    fields = ["message_count"]
    if message.direction == Message.Direction.INBOUND:
        conversation.inbound_count += 1
        fields.append("inbound_count")
        if conversation.last_inbound_at is None or at > conversation.last_inbound_at:
            conversation.last_inbound_at = at
            fields.append("last_inbound_at")
    if conversation.last_message_at is None or at > conversation.last_message_at:
        conversation.last_message_at = at
        fields.append("last_message_at")
    if conversation.started_at is None or at < conversation.started_at:
        conversation.started_at = at
        fields.append("started_at")
    if save:
        conversation.save(update_fields=fields)
    return fields


@transaction.atomic
def record_outbound(
    lead: Lead,
    *,
    wamid: str,
    text: str,
    business: Business,
    timestamp: datetime,
    type: str = "text",
    origin: str = "",
) -> Message:
    """Store a message we sent (by the send API or an echo) and apply any status that beat it here.

    Atomic by itself: a sender calls it right after the Graph API answers, usually outside any
    transaction, and the lead lock below is only legal (and only useful) inside one.
    """
    from .statuses import apply_pending

    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    conversation = get_conversation(lead, business, at=timestamp)
    message, created = Message.objects.get_or_create(
        wamid=exact(Message, "wamid", wamid, label="message id"),
        defaults={
            "conversation": conversation,
            "direction": Message.Direction.OUTBOUND,
            "type": fit(Message, "type", type),
            "text": text,
            "timestamp": timestamp,
            "status": Message.Status.PENDING,
            "origin": origin,  # before the metrics count it: an echo may or may not be an answer
        },
    )
    if created:
        count_message(conversation, message)
        lead_activity.save_outbound(lead, message)
        link_replies(message)  # replies and reactions the user sent before we recorded it
    apply_pending(message)
    return message
