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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ..conf import app_settings
from ..models import WebhookEvent
from ..outcomes import Outcome, backoff
from ..parsing import InvalidUpdate, MessageStatus, Update
from ..parsing.errors import PermanentError
from ..parsing.jsonbody import storable
from ..providers.registry import UnknownProvider, get_provider
from . import inbound_batch, statuses
from .fitting import TooLong
from .ingest import apply_update
from .partial import raw_instances

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


@dataclass(slots=True)
class _Run:
    """What running one event's updates came to: its problems, the last traceback, retryable, update count."""

    problems: list[str] = field(default_factory=list)
    trace: str = ""
    retryable: bool = False
    count: int = 0

    def outcome(self) -> tuple[list[str], str, bool, int]:
        return self.problems, self.trace, self.retryable, self.count


def _parse(event: WebhookEvent, run: _Run) -> list[Update]:
    """The event's updates, or [] with the reason on ``run`` when its body cannot be parsed."""
    try:
        provider = get_provider(event.provider)
        updates = provider.parse_event(
            event.body_bytes, headers=event.headers or {}, received_at=event.received_at
        )
    except (PermanentError, UnknownProvider) as exc:
        run.problems.append(str(exc))
        return []
    except Exception as exc:
        logger.exception("webhook event %s failed", event.pk)
        run.problems.append(f"{type(exc).__name__}: {exc}")
        run.trace = tb.format_exc()
        run.retryable = True
        return []
    run.count = len(updates)
    return list(updates)


def _apply_one(event: WebhookEvent, index: int, update: Update, run: _Run) -> None:
    """Apply one update in its own transaction; a failure is noted on ``run``, never raised."""
    if isinstance(update, InvalidUpdate):
        run.problems.append(f"{update.path or 'payload'}: {update.reason}")
        return
    try:
        with transaction.atomic():
            apply_update(update, event=event)
    except TooLong as exc:  # an id that does not fit will not fit next time either
        run.problems.append(f"update {index} ({type(update).__name__}): {exc}")
    except Exception as exc:  # one update's bug must not stop the others
        logger.exception("webhook event %s: update %s failed", event.pk, index)
        run.problems.append(f"update {index} ({type(update).__name__}): {type(exc).__name__}: {exc}")
        run.trace = tb.format_exc()
        run.retryable = True


def _apply_all(event: WebhookEvent) -> tuple[list[str], str, bool, int]:
    """(problems, last traceback, retryable, update count) of running every update of ``event``."""
    run = _Run()
    for index, update in enumerate(_parse(event, run)):
        _apply_one(event, index, update, run)
    return run.outcome()


def _statuses_together(parsed: list[tuple[WebhookEvent, _Run, list[Update]]]) -> set[int]:
    """Every status of a batch in one transaction (``statuses.record_statuses``); the events done in it.

    An event holding only statuses is marked processed in that same transaction, so a batch of
    statuses costs one commit. Should anything in it fail, the transaction is undone and each
    status is applied alone, as ``process_event`` would: the bad one fails with its reason and
    its neighbours are applied; the caller then records every event's outcome as usual.
    """
    batch = [
        (event, index, update, run)
        for event, run, updates in parsed
        for index, update in enumerate(updates)
        if type(update) is MessageStatus
    ]
    if not batch:
        return set()
    finished = {
        event.pk: run.count
        for event, run, updates in parsed
        if updates and not run.problems and all(type(update) is MessageStatus for update in updates)
    }
    try:
        with transaction.atomic():
            statuses.record_statuses([update for _, _, update, _ in batch])
            _mark_processed(finished)
    except Exception:
        logger.info(
            "a batch of %s statuses failed together; applying them one by one", len(batch), exc_info=True
        )
        for event, index, update, run in batch:
            _apply_one(event, index, update, run)
        return set()
    return set(finished)


def _mark_processed(counts: dict[int, int]) -> None:
    """Mark events processed, ``counts`` giving each one's update count: one UPDATE per distinct count."""
    now = timezone.now()
    by_count: dict[int, list[int]] = {}
    for pk, count in counts.items():
        by_count.setdefault(count, []).append(pk)
    for count, ids in by_count.items():
        if connection.vendor == "postgresql":  # one array parameter, not a placeholder per id
            _mark_processed_pg(ids, count, now)
            continue
        WebhookEvent.objects.filter(pk__in=ids).update(
            status=WebhookEvent.Status.PROCESSED,
            processed_at=now,
            error="",
            traceback="",
            update_count=count,
            next_attempt_at=None,
        )


def _mark_processed_pg(ids: list[int], count: int, now: datetime) -> None:
    """``_mark_processed``'s UPDATE for one count, the ids as one array (what Django's ``pk__in``
    with hundreds of placeholders cost to compile and bind was most of the statement's CPU)."""
    table = connection.ops.quote_name(WebhookEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, processed_at = %s, error = '', traceback = '',"  # noqa: S608
            " update_count = %s, next_attempt_at = NULL WHERE id = ANY(%s)",
            [WebhookEvent.Status.PROCESSED, now, count, ids],
        )


# What running an event reads: the rest (error, traceback, timestamps...) stays deferred, loaded
# only if something reads it. Loading every column (two more datetimes, five mostly empty) cost
# about as much as parsing a status body.
LOADED_FIELDS = ("id", "provider", "body", "headers", "received_at", "attempts")


def count_attempts_sql(ids_sql: str) -> str:
    """The UPDATE that counts an attempt of the events ``id {ids_sql}`` names that are still to run,
    returning their ``LOADED_FIELDS`` (``loaded_events`` reads them); its last parameter is
    ``WebhookEvent.Status.PROCESSED``. ``drain`` folds it into the statement that claims a batch."""
    meta = WebhookEvent._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(meta.get_field(name).column)) for name in LOADED_FIELDS)  # type: ignore[union-attr]
    return (
        f"UPDATE {quote(meta.db_table)} SET attempts = attempts + 1"  # noqa: S608 - names from the model
        f" WHERE id {ids_sql} AND body_dropped_at IS NULL AND status <> %s RETURNING {columns}"
    )


def loaded_events(rows: list[tuple[object, ...]]) -> list[WebhookEvent]:
    """Events from rows of ``LOADED_FIELDS`` (other fields deferred), in arrival order."""
    events = raw_instances(WebhookEvent, LOADED_FIELDS, rows)
    events.sort(key=lambda event: (event.received_at, event.pk))
    return events


def _load_batch(event_ids: list[int]) -> list[WebhookEvent]:
    """The batch's events still to run, each with its attempt counted (and committed), in arrival order.

    One ``UPDATE ... RETURNING`` both counts the attempt and loads the rows. The count is committed
    before anything runs, so a batch that keeps killing its worker still runs out of attempts.
    """
    if not event_ids:
        return []
    params: list[Any]
    if connection.vendor == "postgresql":
        ids_sql, params = "= ANY(%s)", [list(event_ids)]
    else:
        ids_sql, params = f"IN ({', '.join(['%s'] * len(event_ids))})", list(event_ids)
    with connection.cursor() as cursor:
        cursor.execute(count_attempts_sql(ids_sql), [*params, WebhookEvent.Status.PROCESSED])
        return loaded_events(cursor.fetchall())


def _others_in_order(parsed: list[tuple[WebhookEvent, _Run, list[Update]]]) -> None:
    """Every update that is not a status, in order: plain follow-ups set-based (``inbound_batch``).

    Whatever that path does not take is applied alone by ``_apply_one``, in its place.
    """
    others = [
        (event, index, update, run)
        for event, run, updates in parsed
        for index, update in enumerate(updates)
        if type(update) is not MessageStatus
    ]
    inbound_batch.apply_in_order(
        [(event, update) for event, _, update, _ in others], alone=lambda i: _apply_one(*others[i])
    )


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
    return _record(event, problems, trace, retryable, count)


def _record(event: WebhookEvent, problems: list[str], trace: str, retryable: bool, count: int) -> Outcome:
    """Write one event's outcome on its row."""
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
    return _record_failure(event, problems, trace, retryable, count, now=now)


def _record_failure(
    event: WebhookEvent, problems: list[str], trace: str, retryable: bool, count: int, *, now: datetime
) -> Outcome:
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


def process_batch(event_ids: list[int]) -> dict[int, Outcome]:
    """Process several stored webhooks with a few statements per batch instead of a few per event.

    The same steps as ``process_event``, each event's updates still in their own transactions
    (one bad update fails alone) except statuses, applied together (``_statuses_together``), and
    plain follow-ups, applied set-based (``inbound_batch``; either falls back to one by one); what
    is shared is the bookkeeping: one statement counts the attempts and loads the events, one
    marks every clean one processed (for events of statuses only, inside the statuses' own
    transaction). The caller makes sure no
    other worker runs the same events meanwhile (``drain``'s locks); a crash before the last
    statement leaves them pending, and running them again converges on the same rows.
    """
    return process_loaded(_load_batch(event_ids))


def process_loaded(events: list[WebhookEvent]) -> dict[int, Outcome]:
    """``process_batch`` for events already loaded with their attempt counted (``drain`` claims,
    counts and loads a batch in one statement: ``count_attempts_sql``, ``loaded_events``)."""
    if not events:
        return {}
    outcomes: dict[int, Outcome] = {}
    clean: dict[int, int] = {}  # event -> update count, for events with no problem
    parsed: list[tuple[WebhookEvent, _Run, list[Update]]] = []
    for event in events:
        run = _Run()
        parsed.append((event, run, _parse(event, run)))
    # Statuses are the bulk of the traffic and need no lead lock: set-based, the whole batch at once.
    done = _statuses_together(parsed)
    _others_in_order([entry for entry in parsed if entry[0].pk not in done])
    for event, run, _ in parsed:
        if event.pk in done:  # only statuses, and marked processed with them
            outcomes[event.pk] = Outcome(status="processed")
            continue
        problems, trace, retryable, count = run.outcome()
        if problems:
            outcomes[event.pk] = _record_failure(event, problems, trace, retryable, count, now=timezone.now())
        else:
            clean[event.pk] = count
            outcomes[event.pk] = Outcome(status="processed")
    _mark_processed(clean)
    return outcomes
