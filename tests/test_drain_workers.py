"""Draining with real workers on PostgreSQL: no event runs twice, a killed worker's batch is finished.

Real Celery worker processes on the test database and the test Redis; the kill is a real SIGKILL
of the worker's process group, mid-batch.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from tests.support.factories import WebhookEventFactory
from tests.support.procs import wait_for
from whatsapp_leads.models import Lead, LeadAssignment, Message, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound
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


def test_two_workers_draining_the_same_inbox_never_run_an_event_twice(workers):
    events = _store(240, prefix="9198500")
    # One wake each for the two workers (and a few more), before either starts: both drain at once.
    assert all(publish(PROCESS_EVENT, event.pk) for event in events[:6])
    workers.start(concurrency=1)
    workers.start(concurrency=1)

    wait_for(lambda: _processed() == len(events), timeout=120, what="every event processed")

    attempts = Counter(WebhookEvent.objects.values_list("attempts", flat=True))
    assert attempts == {1: len(events)}, f"some events were run more than once: {attempts}"
    assert Lead.objects.count() == Message.objects.count() == len(events)
    logs = [worker.log() for worker in workers.started]
    assert all("processed=" in log for log in logs), "both workers should have drained part of the inbox"


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
