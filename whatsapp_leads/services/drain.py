"""Draining the inbox: a woken worker claims pending events in batches until none is left.

The webhook view stores a row and, at most once per ``WAKE_INTERVAL_SECONDS`` per process,
publishes a wake (``queueing.wake``); the worker that takes it processes every pending event in
batches of ``DRAIN_BATCH_SIZE``, then keeps looking every ``LINGER_POLL_SECONDS`` until
``WAKE_INTERVAL_SECONDS`` after it woke, which covers the rows whose publish the view skipped
(each found within a poll, not at the end of the window). The sweep stays the safety net for a lost
wake or a dead worker.

Exclusive on PostgreSQL: each claimed event is held by a session-level advisory lock
(``pg_try_advisory_lock``), taken in the claiming SELECT, so two workers never run the same
event at once and each skips what another holds. Unlike ``FOR UPDATE`` the lock outlives the
short transactions the updates are applied in, and it goes with the connection: a killed
worker's events are free for the next one at once. On SQLite (one writer anyway) a file lock
lets one process drain at a time.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection

from ..conf import app_settings
from ..models import WebhookEvent
from ..outcomes import Outcome
from ..queueing import PROCESS_EVENT, publish
from . import processing

logger = logging.getLogger(__name__)

# First key of our advisory locks ("WL"); the second is the event id folded into 32 bits. Two ids
# 2**31 apart share a key, which only makes one wait for the other.
LOCK_SPACE = 0x574C
SCAN_FACTOR = 4  # rows looked at per batch wanted, so a batch fills past events others hold
#: While lingering on an empty inbox, how often a woken worker looks again (seconds).
LINGER_POLL_SECONDS = 0.02


@dataclass(slots=True)
class DrainReport:
    processed: int = 0
    failed: int = 0
    batches: int = 0
    handed_on: bool = False  # the time budget ran out with work left: a fresh wake was published

    def count(self, outcomes: dict[int, Outcome]) -> None:
        self.batches += 1
        for outcome in outcomes.values():
            if outcome.status == "failed":
                self.failed += 1
            else:
                self.processed += 1


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _table() -> str:
    return connection.ops.quote_name(WebhookEvent._meta.db_table)


def _lock(ids: list[int]) -> list[int]:
    """Those of ``ids`` this session could lock (others are being run by another worker)."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id WHERE pg_try_advisory_lock(%s, (id %% 2147483647)::int)",
            [ids, LOCK_SPACE],
        )
        return [row[0] for row in cursor.fetchall()]


def _unlock(ids: list[int]) -> None:
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_unlock(%s, (id %% 2147483647)::int) FROM unnest(%s::bigint[]) AS id",
            [LOCK_SPACE, ids],
        )


def _claim(size: int) -> list[int]:
    """Up to ``size`` pending events, oldest first, locked for this worker on PostgreSQL."""
    if not _postgres():
        return list(
            WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING, body_dropped_at__isnull=True)
            .order_by("received_at", "pk")
            .values_list("pk", flat=True)[:size]
        )
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), _claim_params(size))
        return [row[0] for row in cursor.fetchall()]


def _claim_sql() -> str:
    """PostgreSQL: the ids of up to ``size`` pending events, oldest first, each advisory-locked.

    The inner LIMIT keeps the planner from pushing the lock into the scan: only rows returned
    are locked, and at most ``size`` of them. Parameters: ``_claim_params``.
    """
    return (
        f"SELECT id FROM (SELECT id FROM {_table()} WHERE status = %s AND body_dropped_at IS NULL"  # noqa: S608
        " ORDER BY received_at, id LIMIT %s) AS head"
        " WHERE pg_try_advisory_lock(%s, (id %% 2147483647)::int) LIMIT %s"
    )


def _claim_params(size: int) -> list[Any]:
    return [WebhookEvent.Status.PENDING, size * SCAN_FACTOR, LOCK_SPACE, size]


def _claim_loaded(size: int) -> tuple[list[int], list[WebhookEvent]]:
    """PostgreSQL: ``_claim`` and ``processing``'s attempt count and load in one statement.

    (the ids locked, the events among them still to run with their attempt counted). The
    statement commits on its own, so the count is committed before anything runs, as
    ``processing._load_batch``'s. Every locked id comes back, also one another worker finished
    meanwhile (not counted, not loaded), so each lock taken is released.
    """
    count = processing.count_attempts_sql("IN (SELECT id FROM locked)")
    # The counted rows, then (rare) the locked ids not among them, as rows of NULLs but the id:
    # a NOT IN over a hashed subquery, where a join of the two CTEs was a nested loop (the
    # planner has no statistics for them), 250 x 250 comparisons a batch.
    skipped = ", ".join(["id", *["NULL"] * (len(processing.LOADED_FIELDS) - 1)])
    sql = (
        f"WITH locked AS ({_claim_sql()}), counted AS ({count})"  # noqa: S608 - our statements
        f" SELECT true, * FROM counted UNION ALL SELECT false, {skipped} FROM locked"
        " WHERE id NOT IN (SELECT id FROM counted)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_claim_params(size), WebhookEvent.Status.PROCESSED])
        rows = cursor.fetchall()
    events = processing.loaded_events([row[1:] for row in rows if row[0]])
    # Oldest first, as ``_claim`` returns them (the hand-over names the last one).
    return [*(row[1] for row in rows if not row[0]), *(event.pk for event in events)], events


def _run(ids: list[int], report: DrainReport, events: list[WebhookEvent] | None = None) -> None:
    """Process ``ids`` (``events``: already claimed and loaded by ``_claim_loaded``), then unlock them."""
    try:
        if events is None:
            report.count(processing.process_batch(ids))
        else:
            report.count(processing.process_loaded(events))
    finally:
        if _postgres():
            _unlock(ids)


@contextlib.contextmanager
def _one_drainer() -> Iterator[None]:
    """SQLite: one process drains at a time (a file lock next to the database); a no-op elsewhere."""
    name = str(connection.settings_dict.get("NAME") or "")
    if _postgres() or connection.vendor != "sqlite" or not name or "memory" in name:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Unix: SQLite's own locking still keeps rows right
        yield
        return
    with open(Path(f"{name}.drain-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # wait: the holder may be past its last look
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def drain(first_id: int | None = None, *, linger: bool = False) -> DrainReport:
    """Process ``first_id`` (the woken event) and then every pending event; see the module docstring.

    ``linger``: the wake came from the webhook view (``queueing.wake``), whose next webhooks may
    have skipped their publish, so an empty inbox is looked at again every ``LINGER_POLL_SECONDS``
    until ``WAKE_INTERVAL_SECONDS`` after waking, the last look starting at or after that time.
    Without it (the sweep, re-processing, a hand-over) an empty inbox ends the task.
    """
    woke = time.monotonic()
    quiet_after = woke + (app_settings.WAKE_INTERVAL_SECONDS if linger else 0)
    budget_until = woke + app_settings.DRAIN_MAX_SECONDS
    size = max(1, int(app_settings.DRAIN_BATCH_SIZE))
    report = DrainReport()
    with _one_drainer():
        if first_id is not None:
            mine = _lock([first_id]) if _postgres() else [first_id]
            if mine:
                _run(mine, report)
        while True:
            looked = time.monotonic()  # the claim sees every row committed before this
            if _postgres():
                claimed, events = _claim_loaded(size)
            else:
                claimed, events = _claim(size), None
            if claimed:
                _run(claimed, report, events)
                if time.monotonic() >= budget_until:
                    # More may be waiting: a fresh wake (to any worker) carries on from here.
                    report.handed_on = publish(PROCESS_EVENT, claimed[-1], what="the rest of the inbox")
                    break
                continue
            if looked >= quiet_after:
                break
            # Empty, but a webhook stored before ``quiet_after`` may have skipped its wake: look
            # again shortly (not only at the end), so such a row waits ~LINGER_POLL_SECONDS, not
            # the whole window. An empty look is one indexed read of the pending rows.
            time.sleep(max(0.0, min(LINGER_POLL_SECONDS, quiet_after - time.monotonic())))
    return report
