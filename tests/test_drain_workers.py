"""Draining with real workers on PostgreSQL: no event runs twice, a killed worker's batch is finished.

Real Celery worker processes on the test database and the test Redis; the kill is a real SIGKILL
of the worker's process group, mid-batch.
"""

from __future__ import annotations

import os
import re
import signal
from collections import Counter

import pytest
from django.utils import timezone

from tests.support.factories import ConversationFactory, WebhookEventFactory
from tests.support.procs import wait_for
from whatsapp_leads.models import Lead, LeadAssignment, Message, StatusUpdate, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound, status_update
from whatsapp_leads.queueing import PROCESS_EVENT, publish
from whatsapp_leads.services.inbox import sweep

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _store(count: int, *, prefix: str) -> list[WebhookEvent]:
    return [
        WebhookEventFactory(body=dumps(inbound(wa_id=f"{prefix}{n:05d}", name=f"Buyer {n}")))
        for n in range(count)
    ]


def _processed() -> int:
    return WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count()


def _processed_by(log: str) -> int:
    """Events a worker's drain tasks reported processed (their results: ``processed=N failed=...``)."""
    return sum(int(count) for count in re.findall(r"processed=(\d+)", log))


def test_two_workers_draining_the_same_inbox_never_run_an_event_twice(workers):
    # More than two batches (DRAIN_BATCH_SIZE), so one worker's first claim cannot take them all.
    events = _store(600, prefix="9198500")
    workers.start(concurrency=1)
    workers.start(concurrency=1)
    # Both consume before the wakes go out (one each, and a few more): both drain at once.
    assert all(publish(PROCESS_EVENT, event.pk) for event in events[:6])

    wait_for(lambda: _processed() == len(events), timeout=120, what="every event processed")

    attempts = Counter(WebhookEvent.objects.values_list("attempts", flat=True))
    assert attempts == {1: len(events)}, f"some events were run more than once: {attempts}"
    assert Lead.objects.count() == Message.objects.count() == len(events)
    shares = [_processed_by(worker.log()) for worker in workers.started]
    assert all(share > 0 for share in shares), f"both workers should have drained part of the inbox: {shares}"
    assert sum(shares) == len(events)


def test_a_batch_interrupted_by_a_killed_worker_is_finished_by_the_next(workers):
    events = _store(300, prefix="9198600")
    assert publish(PROCESS_EVENT, events[0].pk)
    first = workers.start(concurrency=1)

    # Mid-batch: leads exist for events whose batch has not been marked processed yet.
    wait_for(
        lambda: Lead.objects.count() > _processed() + 3, timeout=90, what="a batch half done", interval=0.02
    )
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    interrupted = len(events) - _processed()
    assert 0 < interrupted < len(events)

    workers.start(concurrency=1)
    # The safety net: nothing waits in the queue (the killed worker's message is unacknowledged),
    # so the sweep hands the stale events to the new worker; the dead one's locks went with it.
    assert sweep(older_than_seconds=0).stale > 0
    wait_for(lambda: _processed() == len(events), timeout=120, what="the rest processed by the next worker")

    assert Lead.objects.count() == Message.objects.count() == len(events)
    per_lead = Counter(LeadAssignment.objects.values_list("lead_id", flat=True))
    assert set(per_lead.values()) <= {1}
    assert WebhookEvent.objects.filter(attempts__gt=1).count() <= interrupted


def _store_statuses(messages: int, *, prefix: str) -> list[str]:
    """``messages`` sent messages and their sent, delivered and read webhooks, stored pending in that order."""
    conversation = ConversationFactory()
    wamids = [f"wamid.{prefix}{n:06d}" for n in range(messages)]
    Message.objects.bulk_create(
        Message(
            wamid=wamid,
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            type="text",
            text="Our brochure",
            timestamp=timezone.now(),
            status=Message.Status.PENDING,
        )
        for wamid in wamids
    )
    at = int(timezone.now().timestamp())
    WebhookEvent.objects.bulk_create(
        WebhookEvent(provider="meta", body=dumps(status_update(wamid, state, timestamp=at + n)), headers={})
        for n, state in enumerate(("sent", "delivered", "read"))
        for wamid in wamids
    )
    return wamids


def _every_status_applied_once(wamids: list[str]) -> None:
    assert set(Message.objects.filter(wamid__in=wamids).values_list("status", flat=True)) == {"read"}
    reports = StatusUpdate.objects.filter(wamid__in=wamids)
    assert reports.count() == 3 * len(wamids)
    assert not reports.filter(applied=False).exists()
    assert not Message.objects.filter(wamid__in=wamids, read_at__isnull=True).exists()


def test_two_workers_draining_the_same_inbox_of_statuses_never_apply_an_event_twice(workers):
    wamids = _store_statuses(800, prefix="TWO")
    first = WebhookEvent.objects.order_by("pk").first()
    assert all(publish(PROCESS_EVENT, first.pk) for _ in range(4))
    workers.start(concurrency=1)
    workers.start(concurrency=1)
    total = 3 * len(wamids)

    wait_for(lambda: _processed() == total, timeout=120, what="every status event processed")

    attempts = Counter(WebhookEvent.objects.values_list("attempts", flat=True))
    assert attempts == {1: total}, f"some events were run more than once: {attempts}"
    assert set(WebhookEvent.objects.values_list("update_count", flat=True)) == {1}
    _every_status_applied_once(wamids)


def test_a_batch_of_statuses_interrupted_by_a_killed_worker_is_finished_by_the_next(workers):
    wamids = _store_statuses(1500, prefix="KILL")
    total = 3 * len(wamids)
    assert publish(PROCESS_EVENT, WebhookEvent.objects.order_by("pk").first().pk)
    first = workers.start(concurrency=1)

    # A batch of statuses commits with its events marked processed: kill between two batches' commits.
    wait_for(lambda: _processed() > 0, timeout=90, what="a first batch of statuses done", interval=0.01)
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    interrupted = total - _processed()
    assert 0 < interrupted < total

    workers.start(concurrency=1)
    assert sweep(older_than_seconds=0).stale > 0
    wait_for(lambda: _processed() == total, timeout=120, what="the rest processed by the next worker")

    _every_status_applied_once(wamids)
    # Only the batch the kill cut short runs again; what was committed is never run twice.
    assert WebhookEvent.objects.filter(attempts__gt=1).count() <= interrupted
    assert WebhookEvent.objects.filter(attempts__gt=2).count() == 0
