"""The 24-hour customer-service window: free-form messages only inside it, templates any time.

Meta opens (and resets) the window with every message the user sends; our own sends and echoes
from the WhatsApp Business app do not extend it (whatsapp-cloud-api.md §7.6). The conversation's
``last_inbound_at`` is that message's time, as Meta stamped it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from ...models import Conversation

WINDOW = timedelta(hours=24)
FREE_ENTRY_POINT = timedelta(hours=72)
# Only templates may be sent outside the window; every other kind is "free-form".
TEMPLATE_KINDS = frozenset({"template"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    closes_at: datetime | None
    open: bool

    def words(self, *, now: datetime | None = None) -> str:
        """What the reply box says about it."""
        now = now or timezone.now()
        if self.closes_at is None:
            return "The customer has not written to us yet, so only an approved template can be sent."
        if not self.open:
            return (
                "More than 24 hours have passed since the customer last wrote, so only an approved "
                "template can be sent."
            )
        left = self.closes_at - now
        hours, minutes = int(left.total_seconds() // 3600), int(left.total_seconds() % 3600 // 60)
        return (
            f"You can reply freely for {hours} h {minutes:02d} min more (24 hours after their last message)."
        )


def window_of(conversation: Conversation | None, *, now: datetime | None = None) -> Window:
    now = now or timezone.now()
    last = conversation.last_inbound_at if conversation is not None else None
    if last is None:
        return Window(closes_at=None, open=False)
    closes = last + WINDOW
    return Window(closes_at=closes, open=now < closes)


def needs_window(kind: str) -> bool:
    return kind not in TEMPLATE_KINDS
