"""From a stored ``WebhookEvent`` to rows: its provider parses it, every update is dispatched, the outcome recorded.

Each update is applied in its own transaction, so one bad message is reported without undoing
its neighbours; because every step is idempotent, re-processing an event (retry, sweep, admin
action) converges on the same rows. The outcome always ends up on the row, whatever the bytes:
failure text is made storable before it is saved, so no event can stay pending because its own
error could not be written.
"""

from __future__ import annotations

import logging
import traceback as tb
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..conf import app_settings
from ..models import WebhookEvent
from ..outcomes import Outcome, backoff
from ..parsing import InvalidUpdate
from ..parsing.errors import PermanentError
from ..parsing.jsonbody import storable
from ..providers.registry import UnknownProvider, get_provider
from .fitting import TooLong
from .ingest import apply_update

logger = logging.getLogger(__name__)

ERROR_LIMIT = 10000


def backoff_seconds(attempts: int) -> int:
    """Seconds before retrying an event that failed ``attempts`` times."""
    return backoff(
        attempts, base=app_settings.RETRY_BACKOFF_SECONDS, cap=app_settings.RETRY_BACKOFF_MAX_SECONDS
    )


def _claim(event_id: int) -> WebhookEvent | None:
    """The event with its attempt counted, or None when it is gone or already processed.

    No lock is held while processing: two workers may run copies at once, and the database
    constraints (unique wamid, unique lead identity) make the second one a no-op.
    """
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None or event.status == WebhookEvent.Status.PROCESSED or event.body_dropped:
        return None  # a dropped body (retention, erasure) keeps its outcome and is never run again
    WebhookEvent.objects.filter(pk=event_id).update(attempts=F("attempts") + 1)
    event.attempts += 1
    return event


def _apply_all(event: WebhookEvent) -> tuple[list[str], str, bool, int]:
    """(problems, last traceback, retryable, update count) of running every update of ``event``."""
    problems: list[str] = []
    trace = ""
    retryable = False
    count = 0
    try:
        provider = get_provider(event.provider)
        updates = provider.parse_event(
            event.body_bytes, headers=event.headers or {}, received_at=event.received_at
        )
        count = len(updates)
        for index, update in enumerate(updates):
            if isinstance(update, InvalidUpdate):
                problems.append(f"{update.path or 'payload'}: {update.reason}")
                continue
            try:
                with transaction.atomic():
                    apply_update(update, event=event)
            except TooLong as exc:  # an id that does not fit will not fit next time either
                problems.append(f"update {index} ({type(update).__name__}): {exc}")
            except Exception as exc:  # one update's bug must not stop the others
                logger.exception("webhook event %s: update %s failed", event.pk, index)
                problems.append(f"update {index} ({type(update).__name__}): {type(exc).__name__}: {exc}")
                trace = tb.format_exc()
                retryable = True
    except (PermanentError, UnknownProvider) as exc:
        problems.append(str(exc))
    except Exception as exc:
        logger.exception("webhook event %s failed", event.pk)
        problems.append(f"{type(exc).__name__}: {exc}")
        trace = tb.format_exc()
        retryable = True
    return problems, trace, retryable, count


def process_event(event_id: int, *, force: bool = False) -> Outcome:
    """Process one stored webhook. ``force`` re-runs a processed event (after a parser fix).

    A retryable failure records when it is due again (``next_attempt_at``, exponential backoff);
    the sweep queues it then. ``retry_in`` reports that delay to the caller.
    """
    if force:
        WebhookEvent.objects.filter(pk=event_id, body_dropped_at__isnull=True).update(
            status=WebhookEvent.Status.PENDING
        )
    event = _claim(event_id)
    if event is None:
        return Outcome(status="skipped")

    problems, trace, retryable, count = _apply_all(event)
    now = timezone.now()
    if not problems:
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.PROCESSED,
            processed_at=now,
            error="",
            traceback="",
            update_count=count,
            next_attempt_at=None,
        )
        return Outcome(status="processed")

    retry_in = (
        backoff_seconds(event.attempts) if retryable and event.attempts < app_settings.MAX_ATTEMPTS else None
    )
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.FAILED,
        processed_at=now,
        # Reasons quote payloads: NUL and lone surrogates must not make the reason itself unsaveable.
        error=storable("\n".join(problems)[:ERROR_LIMIT]),
        traceback=storable(trace),
        update_count=count,
        next_attempt_at=now + timedelta(seconds=retry_in) if retry_in is not None else None,
    )
    return Outcome(status="failed", retry_in=retry_in)
