"""Deliver one outbox row to Meta and record the answer.

The row is locked while it is sent (``skip_locked``), so two tasks for the same row never both
post: the second finds it busy, or already sent. Throttling, 5xx and transient errors are retried
with backoff up to CONVERSION_MAX_ATTEMPTS; a token, permission, dataset or event-name error is
recorded in words and left for a person (then re-sent from the admin). Meta does not de-duplicate
business-messaging events, so a row is never posted again once Meta accepted it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from ...conf import app_settings
from ...graph import Api, GraphAPIError, GraphClient, GraphNotConfigured
from ...graph.conversions import event_body, find_dataset, request_body, send_events
from ...graph.errors import AUTH_CODES
from ...models import Conversation, ConversionEvent
from ...outcomes import Outcome, backoff
from .outbox import is_latest_win, purchase_value

logger = logging.getLogger(__name__)

Status = ConversionEvent.Status
INVALID_EVENT_SUBCODE = 2804066
PERMISSION_CODES = frozenset({10, *range(200, 300)})
# A countdown may bring the task back a moment before next_attempt_at: that is on time.
EARLY_TOLERANCE = timedelta(seconds=5)
DATASET_CACHE_KEY = "whatsapp_leads:capi-dataset:{}"


class SendProblem(Exception):
    """Something on our side (configuration) that no retry fixes; the message says what to do."""


def waba_id_for(row: ConversionEvent) -> str:
    """The WhatsApp Business Account of the lead's first thread, else WHATSAPP_BUSINESS_ACCOUNT_ID."""
    waba = (
        Conversation.objects.filter(lead_id=row.lead_id)
        .exclude(waba_id="")
        .order_by("created_at", "pk")
        .values_list("waba_id", flat=True)
        .first()
    )
    return waba or str(app_settings.BUSINESS_ACCOUNT_ID or "").strip()


def dataset_for(waba_id: str, *, client: GraphClient) -> str:
    """META_DATASET_ID, else the WABA's dataset asked of Meta once and cached."""
    configured = str(app_settings.META_DATASET_ID or "").strip()
    if configured:
        return configured
    key = DATASET_CACHE_KEY.format(waba_id)
    found = cache.get(key)
    if found:
        return found
    try:
        found = find_dataset(waba_id, client=client)
    except GraphAPIError as error:
        if error.retryable:
            raise
        raise SendProblem(
            f"could not look up the dataset of WhatsApp Business Account {waba_id}: {explain(error)} "
            "(Or set META_DATASET_ID.)"
        ) from None
    if not found:
        raise SendProblem(
            f"WhatsApp Business Account {waba_id} has no dataset: create one (POST /{waba_id}/dataset) "
            "or set META_DATASET_ID."
        )
    cache.set(key, found, timeout=None)
    return found


def explain(error: GraphAPIError) -> str:
    """Meta's words plus what a person should do about them."""
    text = str(error)
    if error.subcode == INVALID_EVENT_SUBCODE:
        return f"{text}. Meta refuses this event name for business messaging: change CONVERSION_EVENTS."
    if error.code in AUTH_CODES:
        return f"{text}. The access token is invalid or expired: set a new META_ACCESS_TOKEN."
    if error.code in PERMISSION_CODES:
        return f"{text}. The token lacks a permission: it needs whatsapp_business_manage_events."
    return text


def retry_delay(attempts: int) -> int:
    return backoff(
        attempts,
        base=app_settings.CONVERSION_RETRY_BACKOFF_SECONDS,
        cap=app_settings.CONVERSION_RETRY_BACKOFF_MAX_SECONDS,
    )


def send_conversion(row_id: int, *, client: GraphClient | None = None) -> Outcome:
    """Send one row if it is pending and due; the Outcome's ``retry_in`` asks the task to come back."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            # of=self: the lead row (joined for its ctwa_clid) stays unlocked, so the lead's other
            # events are sent at the same time instead of being skipped as "busy".
            ConversionEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("lead")
            .filter(pk=row_id)
            .first()
        )
        if row is None:
            exists = ConversionEvent.objects.filter(pk=row_id).exists()
            return Outcome(status="busy" if exists else "missing")
        if row.status != Status.PENDING:
            return Outcome(status=row.status)
        if row.next_attempt_at and row.next_attempt_at > now + EARLY_TOLERANCE:
            return Outcome(status="not_due")
        return _attempt(row, client=client, now=now)


def _attempt(row: ConversionEvent, *, client: GraphClient | None, now) -> Outcome:
    lead = row.lead
    row.attempts += 1
    fields = ["attempts", "status", "error", "next_attempt_at", "updated_at"]
    if not lead.ctwa_clid:
        row.status, row.error = Status.NOT_ATTRIBUTABLE, "The lead has no ctwa_clid; not sent."
        row.save(update_fields=fields)
        return Outcome(status=row.status)
    if row.value is not None and is_latest_win(row, lead):
        # a deal value corrected after "won" and before sending is the one sent; an earlier win
        # (the lead was won again since) keeps the deal it was recorded with
        row.value, row.currency = purchase_value(lead)
        fields += ["value", "currency"]
    try:
        waba_id = waba_id_for(row)
        if not waba_id:
            raise SendProblem(
                "No WhatsApp Business Account id: the lead's thread names none and "
                "WHATSAPP_BUSINESS_ACCOUNT_ID is empty."
            )
        client = client or GraphClient.from_settings(api=Api.MARKETING, max_retries=0)
        dataset_id = dataset_for(waba_id, client=client)
        event = event_body(
            event_name=row.event_name,
            event_time=row.event_time,
            event_id=row.event_id,
            ctwa_clid=lead.ctwa_clid,
            waba_id=waba_id,
            value=row.value,
            currency=row.currency,
        )
        test_code = str(app_settings.META_TEST_EVENT_CODE or "").strip()
        row.payload = request_body([event], test_event_code=test_code)
        row.dataset_id, row.test_event_code = dataset_id, test_code
        fields += ["payload", "dataset_id", "test_event_code"]
        result = send_events(dataset_id, [event], client=client, test_event_code=test_code)
    except (SendProblem, GraphNotConfigured) as problem:
        row.status, row.error = Status.FAILED, str(problem)
        row.save(update_fields=fields)
        logger.warning("conversion event %s failed: %s", row.pk, problem)
        return Outcome(status=row.status)
    except GraphAPIError as error:
        row.error, row.fbtrace_id = explain(error), error.fbtrace_id
        fields.append("fbtrace_id")
        if error.retryable and row.attempts < app_settings.CONVERSION_MAX_ATTEMPTS:
            delay = max(retry_delay(row.attempts), int(error.retry_after or 0))
            row.next_attempt_at = now + timedelta(seconds=delay)
            row.error += f" (attempt {row.attempts}; retrying in {delay}s)"
            row.save(update_fields=fields)
            return Outcome(status="retry", retry_in=delay)
        row.status = Status.FAILED
        if error.retryable:
            row.error += f" (gave up after {row.attempts} attempts)"
        row.save(update_fields=fields)
        logger.warning("conversion event %s failed for good: %s", row.pk, row.error)
        return Outcome(status=row.status)
    row.status, row.error, row.next_attempt_at, row.sent_at = Status.SENT, "", None, now
    row.response, row.events_received, row.fbtrace_id = result.raw, result.events_received, result.fbtrace_id
    row.save(update_fields=[*fields, "sent_at", "response", "events_received", "fbtrace_id"])
    return Outcome(status=row.status)
