"""Celery tasks: thin wrappers that call services."""

from __future__ import annotations

import logging

from celery import shared_task

from .services import processing

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="whatsapp_leads.process_webhook_event", max_retries=None, acks_late=True)
def process_webhook_event(self, event_id: int) -> str:
    """Turn one stored webhook into leads, messages and statuses; retried with backoff on failure."""
    outcome = processing.process_event(event_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="whatsapp_leads.sweep_pending_events")
def sweep_pending_events() -> int:
    """Beat job: queue again events a broker outage or a lost task left pending."""
    from .queueing import sweep
    from .services.statuses import reconcile

    reconcile()
    return sweep()
