"""From a stored ``WebhookEvent`` to rows: decode, parse, dispatch every update, record the outcome.

Each update is applied in its own transaction, so one bad message is reported without undoing
its neighbours; because every step is idempotent, re-processing an event (retry, sweep, admin
action) converges on the same rows.
"""

from __future__ import annotations

import json
import logging
import traceback as tb
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..conf import app_settings
from ..models import WebhookEvent
from ..parsing import InvalidUpdate, parse_payload
from ..parsing.meta import PayloadError
from .ingest import apply_update
from .text_safety import UNSTORABLE_ESCAPE, storable

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    status: str
    retry_in: int | None = None


class PermanentError(Exception):
    """The body can never be processed (not JSON, not a WhatsApp webhook): retrying will not help."""


def decode_body(event: WebhookEvent) -> object:
    body = event.body_bytes
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PermanentError(f"body is not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PermanentError(f"body is not valid JSON: {exc}") from None
    # JSON can only carry NUL and lone surrogates escaped, so the byte check keeps the common path free.
    return storable(payload) if UNSTORABLE_ESCAPE.search(body) else payload


def backoff_seconds(attempts: int) -> int:
    base = app_settings.RETRY_BACKOFF_SECONDS
    return int(min(app_settings.RETRY_BACKOFF_MAX_SECONDS, base * 2 ** max(0, attempts - 1)))


def _claim(event_id: int) -> WebhookEvent | None:
    """The event with its attempt counted, or None when it is gone or already processed.

    No lock is held while processing: two workers may run copies at once, and the database
    constraints (unique wamid, unique lead identity) make the second one a no-op.
    """
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None or event.status == WebhookEvent.Status.PROCESSED:
        return None
    WebhookEvent.objects.filter(pk=event_id).update(attempts=F("attempts") + 1)
    event.attempts += 1
    return event


def process_event(event_id: int, *, force: bool = False) -> Outcome:
    """Process one stored webhook. ``force`` re-runs a processed event (after a parser fix)."""
    if force:
        WebhookEvent.objects.filter(pk=event_id).update(status=WebhookEvent.Status.PENDING)
    event = _claim(event_id)
    if event is None:
        return Outcome(status="skipped")

    problems: list[str] = []
    trace = ""
    retryable = False
    count = 0
    try:
        updates = parse_payload(decode_body(event))
        count = len(updates)
        for index, update in enumerate(updates):
            if isinstance(update, InvalidUpdate):
                problems.append(f"{update.path or 'payload'}: {update.reason}")
                continue
            try:
                with transaction.atomic():
                    apply_update(update, event=event)
            except Exception as exc:  # one update's bug must not stop the others
                logger.exception("webhook event %s: update %s failed", event.pk, index)
                problems.append(f"update {index} ({type(update).__name__}): {type(exc).__name__}: {exc}")
                trace = tb.format_exc()
                retryable = True
    except (PermanentError, PayloadError) as exc:
        problems.append(str(exc))
    except Exception as exc:
        logger.exception("webhook event %s failed", event.pk)
        problems.append(f"{type(exc).__name__}: {exc}")
        trace = tb.format_exc()
        retryable = True

    now = timezone.now()
    if not problems:
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.PROCESSED, processed_at=now, error="", traceback="", update_count=count
        )
        return Outcome(status="processed")

    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.FAILED,
        processed_at=now,
        # PostgreSQL text cannot hold NUL; a reason quoting a mangled payload must still be saved.
        error="\n".join(problems)[:10000].replace("\x00", "\\x00"),
        traceback=trace.replace("\x00", "\\x00"),
        update_count=count,
    )
    if retryable and event.attempts < app_settings.MAX_ATTEMPTS:
        return Outcome(status="failed", retry_in=backoff_seconds(event.attempts))
    return Outcome(status="failed")
