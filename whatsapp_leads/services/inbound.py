"""An inbound message: the lead, the thread, the message, attribution and the owner, in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from ..models import Lead, Message, WebhookEvent
from ..parsing import InboundMessage
from ..signals import lead_created, message_received
from . import assignment, attribution, consent, conversations, kinds, lead_activity, leads, utm
from .outbound import greeting
from .routing import keywords


def _note_timing(lead: Lead, message: InboundMessage, *, created: bool) -> tuple[list[str], bool]:
    """Keep first/last message on the lead right even when messages arrive out of order.

    Returns the changed fields and whether this message is now the lead's earliest.
    """
    fields: list[str] = []
    earliest = created
    if not created and (lead.first_message_at is None or message.timestamp < lead.first_message_at):
        lead.first_message, lead.first_message_at = message.text, message.timestamp
        fields += ["first_message", "first_message_at"]
        earliest = True
    if lead.last_message_at is None or message.timestamp > lead.last_message_at:
        lead.last_message_at = message.timestamp
        fields.append("last_message_at")
    return fields, earliest


def _may_reroute(lead: Lead) -> bool:
    """Whether a late first-touch ad may still move the lead to its campaign's team.

    Only while nobody has worked it (status new), never over a person's re-assignment, and once
    per campaign.
    """
    if lead.status != Lead.Status.NEW:
        return False
    return not lead.assignments.filter(
        Q(campaign_id=lead.campaign_id) | Q(assigned_by__isnull=False)
    ).exists()


def _save(lead: Lead, fields: list[str]) -> None:
    """One UPDATE of the lead's changed fields (each named once), if any."""
    if fields:
        lead.save(update_fields=[*dict.fromkeys(fields), "updated_at"])


def receive_message(message: InboundMessage, *, event: WebhookEvent | None = None) -> Message | None:
    """Store an inbound message and everything it implies; None for a message already stored."""
    if Message.objects.filter(wamid=message.wamid).exists():
        # A redelivery. Checked before the lead so a message whose sender has since moved to a new
        # number cannot resurrect the old identity as a new lead; the unique wamid still decides races.
        return None
    lead, created = leads.get_or_create_lead(message)
    conversation = conversations.get_conversation(
        lead, message.business, at=message.timestamp, lead_is_new=created
    )
    stored = conversations.store_inbound(conversation, message, event=event)
    if stored is None:
        return None
    # Saved with engagement's figures for the thread, in one UPDATE (nothing in between reads it).
    thread_fields = conversations.count_message(conversation, stored, save=False)
    kinds.after_store(lead, stored, message, event=event, lead_is_new=created)
    consent.apply_keyword(lead, message, event=event)

    # The lead's changes (timing, activity, attribution, UTM, owner) are collected in ``fields``
    # and saved in one UPDATE: we hold its lock, and nothing before the save reads it back.
    fields, earliest = _note_timing(lead, message, created=created)
    fields += lead_activity.note_inbound(lead, stored, thread_fields=thread_fields)

    attributed = message.referral is not None and attribution.attach_first_touch(
        lead, message.referral, at=message.timestamp, pending=fields
    )
    if created or attributed or earliest:  # ad loop: UTM of the ad URL, [CODE] of the first message
        utm.note(
            lead,
            referral=message.referral if attributed else None,
            text=message.text if earliest else "",
            pending=fields,
        )
    if created:
        # A chat without an ad may be claimed by a campaign's reference code or keywords ("I need a loan").
        claim = keywords.claim_organic_lead(lead, text=utm.routing_text(lead, message.text))
        assignment.assign_new_lead(lead, reason_prefix=claim.reason if claim else "", pending=fields)
        _save(lead, fields)  # before the greeting: queueing it reads the lead (owner, campaign) back
        fields = []
        greeting.greet_new_lead(lead)  # the campaign's welcome, queued to go out on commit
    _save(lead, fields)
    if not created and attributed and earliest and lead.campaign_id and _may_reroute(lead):
        # The ad's message was delayed behind a later one that created the lead: route it as
        # the campaign lead it really is, once.
        assignment.assign_new_lead(lead, reason_prefix="Ad message arrived late. ")

    if created:
        transaction.on_commit(lambda: lead_created.send(sender=Lead, lead=lead, message=stored))
    transaction.on_commit(lambda: message_received.send(sender=Message, message=stored, lead=lead))
    return stored
