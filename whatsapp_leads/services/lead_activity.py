"""Who is waiting for an answer, since when, and what was said last: the fields the inbox sorts on.

Kept on the lead (denormalised) so the inbox is one indexed query whatever the number of messages.
The services that store messages call these while they hold the lead's row lock, so the counts
never race; each returns the fields it changed for the caller's ``save(update_fields=...)``.
Response-time metrics can be built on ``awaiting_reply_since`` and ``last_reply_at``.
"""

from __future__ import annotations

from typing import Any

from ..models import Lead, Message
from .fitting import fit

# Outbound messages nobody wrote by hand: they do not answer the lead.
AUTOMATIC_ORIGINS = frozenset({"greeting"})


def _note_latest(lead: Lead, message: Message) -> list[str]:
    at = message.timestamp
    if lead.last_activity_at is not None and at < lead.last_activity_at:
        return []  # a late, older message: the latest one stays the latest
    lead.last_activity_at = at
    lead.last_message_preview = fit(
        Lead, "last_message_preview", " ".join((message.text or f"[{message.type}]").split())
    )
    lead.last_message_direction = message.direction
    return ["last_activity_at", "last_message_preview", "last_message_direction"]


def note_inbound(lead: Lead, message: Message) -> list[str]:
    """The lead wrote: one more unread, waiting since its earliest unanswered message."""
    fields = _note_latest(lead, message)
    lead.unread_count += 1
    fields.append("unread_count")
    at = message.timestamp
    answered_later = lead.last_reply_at is not None and lead.last_reply_at >= at
    if not answered_later and (lead.awaiting_reply_since is None or at < lead.awaiting_reply_since):
        lead.awaiting_reply_since = at
        fields.append("awaiting_reply_since")
    return fields


def note_outbound(lead: Lead, message: Message) -> list[str]:
    """We wrote: a person's message answers everything the lead sent before it."""
    fields = _note_latest(lead, message)
    if message.origin in AUTOMATIC_ORIGINS:
        return fields
    at = message.timestamp
    if lead.first_reply_at is None or at < lead.first_reply_at:
        lead.first_reply_at = at
        fields.append("first_reply_at")
    if lead.last_reply_at is None or at > lead.last_reply_at:
        lead.last_reply_at = at
        fields.append("last_reply_at")
    if lead.awaiting_reply_since is not None and lead.awaiting_reply_since <= at:
        lead.awaiting_reply_since = None
        fields.append("awaiting_reply_since")
    return fields


def save_outbound(lead: Lead, message: Message) -> None:
    """``note_outbound`` and save (for senders that hold the lock but save nothing else on the lead)."""
    fields = note_outbound(lead, message)
    if fields:
        lead.save(update_fields=[*fields, "updated_at"])


def mark_read(lead: Lead, *, user: Any) -> bool:
    """Clear the unread count when the lead's owner opens it (a manager looking leaves it unread)."""
    if lead.owner_id is None or lead.owner_id != getattr(user, "pk", None) or not lead.unread_count:
        return False
    Lead.objects.filter(pk=lead.pk).update(unread_count=0)
    lead.unread_count = 0
    return True
