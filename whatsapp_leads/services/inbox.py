"""Keeping the inbox moving: the periodic sweep that hands events back to the workers.

Three kinds of event need it, each found by its own state (see ``WebhookEventQuerySet``):

- *unqueued*: the broker refused the publish. Queued again on every sweep, so they run within
  seconds of the broker's return;
- *due retries*: a retryable failure whose backoff is over;
- *stale*: queued long ago and still pending, so the broker lost the message (a restart without
  persistence) or a worker died holding it. Queued again only when nothing is waiting in the
  task queue, because under a backlog "old" means "still in line", not "lost".

Permanent failures (not JSON, not a webhook, attempts used up) have no ``next_attempt_at`` and
are never queued by the sweep; people re-process them from the admin or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..conf import app_settings
from ..models import WebhookEvent
from ..queueing import waiting_in_queue


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepReport:
    unqueued: int = 0
    retries: int = 0
    stale: int = 0

    @property
    def total(self) -> int:
        return self.unqueued + self.retries + self.stale


def sweep(*, older_than_seconds: float | None = None, limit: int = 1000) -> SweepReport:
    """Queue what the three states above hold; returns how many of each the broker took."""
    events = WebhookEvent.objects
    age = app_settings.SWEEP_PENDING_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    # Taken before the other two are queued, so an event is never queued twice by one sweep.
    stale_ids = list(events.stale(older_than=timedelta(seconds=age)).values_list("pk", flat=True)[:limit])
    unqueued = events.unqueued().requeue(limit=limit)
    retries = events.due_retries().requeue(limit=limit)
    stale = 0
    if stale_ids and waiting_in_queue() == 0:
        stale = events.filter(pk__in=stale_ids, status=WebhookEvent.Status.PENDING).requeue()
    return SweepReport(unqueued=unqueued, retries=retries, stale=stale)
