"""Blue ticks for the customer when their rep opens the lead (``MARK_READ_ON_OPEN``, off by default).

Marking the latest received message read marks the earlier ones too (whatsapp-cloud-api.md §7.3),
so one call per thread is enough. The call is queued, so opening the page never waits for Meta,
and it is best effort: a failure is logged, never shown.
"""

from __future__ import annotations

from ...models import Lead, Message
from ...providers.registry import DEFAULT_PROVIDER, get_provider
from ...queueing import MARK_READ, publish


def mark_read_on_open(lead: Lead) -> bool:
    return publish(MARK_READ, lead.pk, what=f"marking lead {lead.pk}'s messages read")


def mark_latest_read(lead_id: int) -> int:
    """Mark each thread's latest inbound message read; how many threads the provider confirmed."""
    done = 0
    latest: dict[int, Message] = {}
    inbound = Message.objects.filter(conversation__lead_id=lead_id, direction=Message.Direction.INBOUND)
    for message in inbound.select_related("conversation").order_by("timestamp", "pk"):
        latest[message.conversation_id] = message
    for message in latest.values():
        provider = get_provider(message.conversation.provider or DEFAULT_PROVIDER)
        done += provider.mark_read(sender=message.conversation.phone_number_id, message_id=message.wamid)
    return done
