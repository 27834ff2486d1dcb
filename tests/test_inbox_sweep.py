"""The sweep hands back exactly what needs it: refused publishes at once, retryable failures when due,
lost events only once nothing is waiting; never a permanent failure, never an event already queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.factories import WebhookEventFactory
from tests.test_processing import two_users_one_broken
from whatsapp_leads.models import WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.queueing import PROCESS_EVENT, publish
from whatsapp_leads.services.inbox import sweep
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(minutes=10)


def queued(broker) -> list[int]:
    return sorted(args[0] for task, args in broker() if task == PROCESS_EVENT)


@pytest.fixture
def refusing_adapter(settings):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "ADAPTER": "tests.test_processing.RefusingAdapter",
        "MAX_ATTEMPTS": 3,
        "RETRY_BACKOFF_SECONDS": 30,
    }


def test_permanent_failures_are_never_queued_again(broker):
    not_json = WebhookEventFactory(body=b"not json at all")
    not_a_webhook = WebhookEventFactory(body=b'{"object": "page", "entry": []}')
    for event in (not_json, not_a_webhook):
        assert process_event(event.pk).status == "failed"

    assert sweep(older_than_seconds=0).total == 0
    assert queued(broker) == []
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"failed"}


def test_a_retryable_failure_records_when_it_is_due_and_is_queued_once_then(broker, refusing_adapter):
    event = WebhookEventFactory(body=two_users_one_broken())
    before = timezone.now()
    assert process_event(event.pk).retry_in == 30
    event.refresh_from_db()
    assert before + timedelta(seconds=29) <= event.next_attempt_at <= timezone.now() + timedelta(seconds=31)

    assert sweep().retries == 0  # not due yet
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert sweep().retries == 1
    assert sweep().retries == 0  # queued once: it is pending now, not due again
    assert queued(broker) == [event.pk]
    event.refresh_from_db()
    assert (event.status, event.next_attempt_at) == ("pending", None)


def test_a_failure_whose_attempts_are_used_up_is_not_queued(broker, refusing_adapter):
    event = WebhookEventFactory(body=two_users_one_broken())
    outcomes = [process_event(event.pk) for _ in range(3)]
    assert outcomes[-1].retry_in is None
    event.refresh_from_db()
    assert event.next_attempt_at is None
    assert sweep(older_than_seconds=0).total == 0
    assert queued(broker) == []


def test_a_pending_backlog_waiting_in_the_broker_is_never_queued_twice(broker):
    backlog = [WebhookEventFactory(body=dumps(inbound(wa_id=f"9198000001{n:02d}"))) for n in range(3)]
    WebhookEvent.objects.update(queued_at=timezone.now() - LONG_AGO)
    for event in backlog:  # their tasks are still in line behind a slow worker
        assert publish(PROCESS_EVENT, event.pk)

    assert sweep().stale == 0

    assert queued(broker) == sorted(e.pk for e in backlog)  # exactly one message each, no more


def test_pending_events_the_broker_lost_are_queued_once_nothing_is_waiting(broker):
    lost = [WebhookEventFactory(body=dumps(inbound(wa_id=f"9198000002{n:02d}"))) for n in range(3)]
    WebhookEvent.objects.update(queued_at=timezone.now() - LONG_AGO)

    assert sweep().stale == 3
    assert sweep(older_than_seconds=0).stale == 0  # queued just now: waiting again, not lost
    assert queued(broker) == sorted(e.pk for e in lost)


def test_refused_publishes_are_queued_by_the_next_sweep_and_the_healthy_backlog_is_left_alone(broker):
    healthy = [WebhookEventFactory(body=dumps(inbound(wa_id=f"9198000003{n:02d}"))) for n in range(2)]
    refused = [WebhookEventFactory(body=dumps(inbound(wa_id=f"9198000004{n:02d}"))) for n in range(2)]
    WebhookEvent.objects.filter(pk__in=[e.pk for e in refused]).update(queued_at=None)
    for event in healthy:
        publish(PROCESS_EVENT, event.pk)

    report = sweep()

    assert (report.unqueued, report.retries, report.stale) == (2, 0, 0)
    assert queued(broker) == sorted(e.pk for e in healthy + refused)
    assert not WebhookEvent.objects.unqueued().exists()


def test_a_broker_still_down_leaves_refused_events_unqueued_after_three_tries(unreachable_broker):
    for n in range(5):
        WebhookEventFactory(body=dumps(inbound(wa_id=f"9198000005{n:02d}")), queued_at=None)

    assert sweep().unqueued == 0
    assert WebhookEvent.objects.unqueued().count() == 5
