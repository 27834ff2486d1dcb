"""Handing stored events to the broker without ever losing them.

Publishing can fail (broker down, network blip). The event is already committed as pending, so
a failure here is logged, not raised: the periodic sweep queues it again later.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from .conf import app_settings

logger = logging.getLogger(__name__)


def enqueue_event(event_id: int, *, countdown: float | None = None) -> bool:
    """Queue ``process_webhook_event``; True when the broker took it."""
    from .tasks import process_webhook_event

    retries = app_settings.PUBLISH_MAX_RETRIES
    try:
        process_webhook_event.apply_async(
            (event_id,),
            countdown=countdown,
            queue=app_settings.TASK_QUEUE,
            retry=retries > 0,
            retry_policy={
                "max_retries": retries,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            },
        )
    except Exception:  # broker errors come in many types (kombu, redis, OSError); all mean "later"
        logger.warning("could not queue webhook event %s; the sweep will retry", event_id, exc_info=True)
        return False
    return True


def sweep(*, older_than_seconds: float | None = None, include_failed: bool = True, limit: int = 1000) -> int:
    """Queue again what a lost publish or a crashed worker left behind; returns how many were queued.

    Pending events older than the threshold (counted from when they were last queued, else
    received) are queued again, and so are failed events with attempts left. Processing is
    idempotent, so queuing an event twice costs a little work and nothing else.
    """
    from django.db.models import Q
    from django.db.models.functions import Coalesce

    from .models import WebhookEvent

    age = app_settings.SWEEP_PENDING_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - timedelta(seconds=age)
    stale = Q(status=WebhookEvent.Status.PENDING)
    if include_failed:
        stale |= Q(status=WebhookEvent.Status.FAILED, attempts__lt=app_settings.MAX_ATTEMPTS)
    ids = list(
        WebhookEvent.objects.annotate(last_touch=Coalesce("queued_at", "received_at"))
        .filter(stale, last_touch__lte=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    queued = [pk for pk in ids if enqueue_event(pk)]
    if queued:
        WebhookEvent.objects.filter(pk__in=queued).update(queued_at=timezone.now())
    return len(queued)
