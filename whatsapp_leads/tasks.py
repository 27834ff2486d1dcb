"""Celery tasks: thin wrappers that call services. Task names are the contract ``queueing`` publishes to."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .queueing import (
    DOWNLOAD_MEDIA,
    LOOKUP_AD,
    MARK_READ,
    PROCESS_EVENT,
    SEND_CONVERSION,
    SEND_MESSAGE,
    SYNC_TEMPLATES,
)

logger = logging.getLogger(__name__)

# A database that is restarting answers again within seconds; the task waits that long, not for the sweep.
DATABASE_RETRY_SECONDS = 5
DATABASE_MAX_RETRIES = 60


@shared_task(bind=True, name=PROCESS_EVENT, max_retries=DATABASE_MAX_RETRIES, acks_late=True)
def process_webhook_event(self, event_id: int, linger: bool = False) -> str:
    """Turn one stored webhook into leads, messages and statuses, then drain the rest of the inbox.

    The task is also the wake the webhook view coalesces its publishes into (``services.drain``).
    A failed update's retry is recorded on the event and queued by the sweep when due. Only an
    unreachable database, where nothing can be recorded, is retried here.
    """
    from .services import drain

    try:
        report = drain.drain(event_id, linger=linger)
        return f"processed={report.processed} failed={report.failed} batches={report.batches}"
    except (OperationalError, InterfaceError) as exc:
        logger.warning("webhook event %s: database unavailable, retrying: %s", event_id, exc)
        raise self.retry(countdown=DATABASE_RETRY_SECONDS, exc=exc) from exc


@shared_task(name="whatsapp_leads.sweep_pending_events")
def sweep_pending_events() -> int:
    """Beat job: queue events whose publish failed, failures due for a retry, and events the broker lost."""
    from .services.inbox import sweep
    from .services.media import requeue_unstarted
    from .services.outbound import outbox
    from .services.statuses import reconcile

    reconcile()
    requeue_unstarted()
    outbox.sweep()
    return sweep().total


@shared_task(bind=True, name=LOOKUP_AD, max_retries=None, acks_late=True)
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


@shared_task(bind=True, name=DOWNLOAD_MEDIA, max_retries=None, acks_late=True)
def download_message_media(self, message_id: int) -> str:
    """Fetch a media message's file into storage; the service bounds retries (MEDIA_MAX_ATTEMPTS)."""
    from .services import media

    outcome = media.download_media(message_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(bind=True, name=SEND_MESSAGE, max_retries=None, acks_late=True)
def send_message(self, message_id: int) -> str:
    """Deliver one outbox message; the service decides retries (SEND_MAX_ATTEMPTS) and never sends twice."""
    from .services.outbound import outbox

    try:
        outcome = outbox.deliver(message_id)
    except (OperationalError, InterfaceError) as exc:
        logger.warning("message %s: database unavailable, retrying: %s", message_id, exc)
        raise self.retry(countdown=DATABASE_RETRY_SECONDS, exc=exc) from exc
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name=SYNC_TEMPLATES)
def sync_templates() -> dict:
    """Beat job (hourly): the WABA's message templates; a logged no-op without a token or WABA id."""
    from .services.outbound import templates

    return templates.scheduled_sync()


@shared_task(name=MARK_READ)
def mark_read(lead_id: int) -> int:
    """Best effort: the lead's latest received messages marked read on WhatsApp (MARK_READ_ON_OPEN)."""
    from .services.outbound import read_receipts

    return read_receipts.mark_latest_read(lead_id)


@shared_task(name="whatsapp_leads.apply_retention")
def apply_retention() -> str:
    """Beat job (hourly): drop expired webhook bodies and media, erase long-closed leads (RETENTION_*)."""
    from .services.privacy.retention import apply_retention as run

    return run().summary()


# --- ad loop: Conversions API and spend ------------------------------------------------------------


@shared_task(bind=True, name=SEND_CONVERSION, max_retries=None, acks_late=True)
def send_conversion(self, event_id: int) -> str:
    """Send one Conversions API outbox row; the service bounds retries (CONVERSION_MAX_ATTEMPTS)."""
    from .services.conversions.send import send_conversion as send

    outcome = send(event_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="whatsapp_leads.sweep_conversions")
def sweep_conversions() -> int:
    """Beat job: queue Conversions API events a lost task or a broker outage left pending."""
    from .services.conversions.outbox import queue_lost

    return queue_lost()


@shared_task(name="whatsapp_leads.sync_spend")
def sync_spend() -> dict:
    """Beat job: daily spend per ad for the trailing SPEND_SYNC_DAYS; a logged no-op without a token."""
    from .services import spend

    return spend.scheduled_sync()


# --- engagement: the first-response SLA ------------------------------------------------------------


@shared_task(name="whatsapp_leads.check_sla")
def check_sla() -> dict:
    """Beat job (every SLA_CHECK_SECONDS): apply first-response SLA breaches that fell due."""
    from .services.sla.breaches import check_due

    return check_due(keep_breaches=False).as_dict()
