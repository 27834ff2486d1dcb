"""Free entry points of a campaign's conversations, for its numbers page.

A reply within 24 hours of a Click-to-WhatsApp ad opens 72 hours in which every message is free
(``outbox.note_free_entry_point`` records when it ends). Since 1 October 2026 other service replies
are billed, so how many threads got (and still have) one says what the campaign's replies cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...models import Campaign, Conversation


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryPoints:
    opened: int  # conversations that ever got one
    open_now: int  # of those, still inside their 72 hours


def free_entry_points(campaign: Campaign, *, now: datetime, owner: Any = None) -> EntryPoints:
    """``owner``: only that person's leads' threads (a rep's view of the campaign)."""
    threads = Conversation.objects.filter(lead__campaign=campaign, free_entry_point_expires_at__isnull=False)
    if owner is not None:
        threads = threads.filter(lead__owner=owner)
    return EntryPoints(
        opened=threads.count(), open_now=threads.filter(free_entry_point_expires_at__gt=now).count()
    )
