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
    from .services.media import requeue_unstarted
    from .services.statuses import reconcile

    reconcile()
    requeue_unstarted()
    return sweep()


@shared_task(bind=True, name="whatsapp_leads.lookup_ad", max_retries=None, acks_late=True)
def lookup_ad(self, ad_id: str) -> str:
    """Fill a newly seen ad's name, ad set and campaign from the Marketing API.

    Retries are bounded by the service (LOOKUP_MAX_RETRIES, backoff from a minute to an hour),
    which also records the last error on the ad when it gives up.
    """
    from .services import campaign_sync

    outcome = campaign_sync.lookup_ad(ad_id, attempt=self.request.retries)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="whatsapp_leads.sync_campaigns")
def sync_campaigns() -> dict:
    """Beat job (hourly): campaigns, ad sets and ads of META_AD_ACCOUNT_IDS; a logged no-op without a token."""
    from .services import campaign_sync

    return campaign_sync.scheduled_sync()


@shared_task(bind=True, name="whatsapp_leads.download_message_media", max_retries=None, acks_late=True)
def download_message_media(self, message_id: int) -> str:
    """Fetch a media message's file into storage; the service bounds retries (MEDIA_MAX_ATTEMPTS)."""
    from .services import media

    outcome = media.download_media(message_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status
