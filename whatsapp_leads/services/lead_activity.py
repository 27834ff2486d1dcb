"""Who is waiting for an answer, since when, and what was said last: the fields the inbox sorts on.

Kept on the lead (denormalised) so the inbox is one indexed query whatever the number of messages.
The services that store messages call these while they hold the lead's row lock, so the counts
never race; each returns the fields it changed for the caller's ``save(update_fields=...)``.
The response-time figures and the SLA deadline are ``engagement``'s, hooked in here so every
service that stores a message keeps them current without knowing about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..models import Lead, Message
from . import engagement
from .fitting import fit


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


def note_inbound(
    lead: Lead, message: Message, *, thread_fields: Iterable[str] = (), save_thread: bool = True
) -> list[str]:
    """The lead wrote: one more unread, waiting since its earliest unanswered message.

    ``awaiting_reply_since``, the counts and the SLA clock are ``engagement.note_message``'s
    (``thread_fields``: the thread's fields ``count_message`` left it to save).
    """
    fields = _note_latest(lead, message)
    lead.unread_count += 1
    fields.append("unread_count")
    return [
        *fields,
        *engagement.note_message(lead, message, thread_fields=thread_fields, save_thread=save_thread),
    ]


def note_outbound(lead: Lead, message: Message) -> list[str]:
    """We wrote: an answer (``RESPONSE_ORIGINS``; never a greeting) ends the wait and the SLA."""
    fields = _note_latest(lead, message)
    return [*fields, *engagement.note_message(lead, message)]


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
