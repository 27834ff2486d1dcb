"""Draining the inbox in batches: every pending event once, statuses set-based, wakes coalesced.

The worker-level guarantees (two workers never run one event, a killed worker's batch is finished
by the next) are in test_drain_workers.py, with real processes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.factories import LeadFactory, WebhookEventFactory
from whatsapp_leads.models import Lead, Message, StatusUpdate, WebhookEvent
from whatsapp_leads.parsing import Business
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    WABA_ID,
    dumps,
    envelope,
    inbound,
    status,
    statuses_value,
)
from whatsapp_leads.queueing import PROCESS_EVENT
from whatsapp_leads.services import drain, processing
from whatsapp_leads.services.conversations import record_outbound
from whatsapp_leads.signals import message_failed, message_status_changed

pytestmark = pytest.mark.django_db

T0 = 1749416400
BUSINESS = Business(waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def sent(wamid: str) -> Message:
    return record_outbound(
        LeadFactory(), wamid=wamid, text="Our brochure", business=BUSINESS, timestamp=at(T0 - 5)
    )


def status_event(wamid: str, state: str, *, offset: int = 0, **extra) -> WebhookEvent:
    item = status(wamid, state, timestamp=T0 + offset, **extra)
    return WebhookEventFactory(body=dumps(envelope(statuses_value([item]))))


@pytest.fixture
def changes():
    """Every message_status_changed / message_failed sent: (wamid, status, previous) / (wamid, code)."""
    seen: list[tuple] = []

    def changed(sender, message, status, previous_status, **kwargs):
        seen.append((message.wamid, status, previous_status))

    def failed(sender, message, code, words, **kwargs):
        seen.append((message.wamid, "failed-signal", code))

    message_status_changed.connect(changed, weak=False)
    message_failed.connect(failed, weak=False)
    yield seen
    message_status_changed.disconnect(changed)
    message_failed.disconnect(failed)


def test_a_batch_with_one_poisoned_status_applies_the_others_and_fails_that_one_with_its_reason(
    changes, django_capture_on_commit_callbacks
):
    first, second = sent("wamid.BATCH1"), sent("wamid.BATCH2")
    good = status_event(first.wamid, "delivered")
    poisoned = status_event("wamid." + "X" * 300, "delivered")
    other = status_event(second.wamid, "read", offset=1)

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = processing.process_batch([good.pk, poisoned.pk, other.pk])

    assert {pk: o.status for pk, o in outcomes.items()} == {
        good.pk: "processed",
        poisoned.pk: "failed",
        other.pk: "processed",
    }
    poisoned.refresh_from_db()
    assert poisoned.status == WebhookEvent.Status.FAILED
    assert "message id is longer than 255 characters" in poisoned.error
    assert poisoned.next_attempt_at is None  # an id that does not fit never will
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("delivered", "read")
    assert sorted(changes) == [("wamid.BATCH1", "delivered", "pending"), ("wamid.BATCH2", "read", "pending")]
    for event in (good, other):
        event.refresh_from_db()
        assert (event.status, event.attempts, event.update_count) == ("processed", 1, 1)


def test_statuses_of_one_batch_only_move_forward_and_signal_once_per_change(
    changes, django_capture_on_commit_callbacks
):
    message = sent("wamid.FORWARD")
    events = [
        status_event(message.wamid, "read", offset=2),
        status_event(message.wamid, "sent", offset=0),
        status_event(message.wamid, "delivered", offset=1),
        status_event(message.wamid, "delivered", offset=1),  # a redelivery in the same batch
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        processing.process_batch([event.pk for event in events])
        assert changes == []  # nothing is announced before the commit
    assert callbacks

    message.refresh_from_db()
    assert message.status == "read"
    assert (message.sent_at, message.delivered_at, message.read_at) == (at(T0), at(T0 + 1), at(T0 + 2))
    # Applied oldest first by Meta's time: three changes, each announced once.
    assert changes == [
        ("wamid.FORWARD", "sent", "pending"),
        ("wamid.FORWARD", "delivered", "sent"),
        ("wamid.FORWARD", "read", "delivered"),
    ]
    assert StatusUpdate.objects.filter(wamid=message.wamid).count() == 3
    assert not StatusUpdate.objects.filter(wamid=message.wamid, applied=False).exists()
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()

    # Delivered again later: kept once, changes nothing, says nothing.
    with django_capture_on_commit_callbacks(execute=True):
        processing.process_batch([status_event(message.wamid, "delivered", offset=1).pk])
    assert len(changes) == 3


def test_a_failed_status_in_a_batch_is_terminal_and_announced_as_a_failure(
    changes, django_capture_on_commit_callbacks
):
    message = sent("wamid.FAILS")
    error = {
        "code": 131049,
        "title": "Not delivered",
        "message": "Not delivered",
        "error_data": {"details": "d"},
    }
    events = [
        status_event(message.wamid, "failed", offset=1, errors=[error]),
        status_event(message.wamid, "read", offset=2),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        processing.process_batch([event.pk for event in events])
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "131049")
    assert changes == [("wamid.FAILS", "failed", "pending"), ("wamid.FAILS", "failed-signal", "131049")]


def test_a_status_for_a_message_not_stored_yet_waits_in_a_batch_too():
    event = status_event("wamid.LATER", "delivered")
    processing.process_batch([event.pk])
    assert StatusUpdate.objects.get(wamid="wamid.LATER").applied is False
    message = sent("wamid.LATER")
    message.refresh_from_db()
    assert message.status == "delivered"


def test_drain_processes_every_pending_event_once_and_leaves_the_others_alone():
    pending = [WebhookEventFactory(body=dumps(inbound(wa_id=f"91980000{n:04d}"))) for n in range(7)]
    done = WebhookEventFactory(
        body=dumps(inbound(wa_id="919800009999")), status=WebhookEvent.Status.PROCESSED
    )
    failed = WebhookEventFactory(body=b"not json", status=WebhookEvent.Status.FAILED)

    report = drain.drain(pending[3].pk)

    assert (report.processed, report.failed, report.handed_on) == (7, 0, False)
    assert set(WebhookEvent.objects.filter(attempts=1).values_list("pk", flat=True)) == {
        e.pk for e in pending
    }
    assert Lead.objects.count() == Message.objects.count() == 7
    done.refresh_from_db()
    failed.refresh_from_db()
    assert (done.attempts, failed.attempts, failed.status) == (0, 0, "failed")
    assert drain.drain(pending[0].pk).processed == 0  # already processed: nothing runs twice


def test_drain_works_in_batches_and_hands_the_rest_on_when_its_time_is_up(settings, broker):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DRAIN_BATCH_SIZE": 2, "DRAIN_MAX_SECONDS": 0}
    events = [WebhookEventFactory(body=dumps(inbound(wa_id=f"91981000{n:04d}"))) for n in range(5)]

    report = drain.drain()

    assert (report.processed, report.batches, report.handed_on) == (2, 1, True)
    assert broker() == [(PROCESS_EVENT, (events[1].pk,))]  # a fresh wake carries on
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DRAIN_MAX_SECONDS": 60}
    assert drain.drain().processed == 3
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()


def test_the_view_publishes_one_wake_per_interval_and_the_wake_drains_every_stored_event(
    settings, post_webhook, broker, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "WAKE_INTERVAL_SECONDS": 3600}
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            assert post_webhook(inbound(wa_id=f"91982000{n:04d}")).status_code == 200
    first = WebhookEvent.objects.order_by("pk").first()
    assert broker() == [(PROCESS_EVENT, (first.pk,))]
    # Rows whose publish was skipped are waiting, not lost: queued_at set, so no sweep treats them as refused.
    assert not WebhookEvent.objects.unqueued().exists()

    # (A woken worker looks again WAKE_INTERVAL_SECONDS after it woke: not an hour in a test.)
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "WAKE_INTERVAL_SECONDS": 0.01}
    assert drain.drain(first.pk, linger=True).processed == 4
    assert Lead.objects.count() == 4


def test_the_task_drains_with_or_without_the_second_look_and_never_runs_an_event_twice(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "WAKE_INTERVAL_SECONDS": 0.01}
    empty = drain.drain(linger=True)
    assert (empty.processed, empty.batches) == (0, 0)
    from whatsapp_leads.tasks import process_webhook_event

    first, second = (WebhookEventFactory(body=dumps(inbound(wa_id=f"91984000000{n}"))) for n in (3, 4))
    assert process_webhook_event.run(first.pk) == "processed=2 failed=0 batches=2"
    assert process_webhook_event.run(first.pk, linger=True) == "processed=0 failed=0 batches=1"
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}


def test_without_a_wake_interval_every_webhook_publishes(
    settings, post_webhook, broker, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "WAKE_INTERVAL_SECONDS": 0}
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            post_webhook(inbound(wa_id=f"91983000{n:04d}"))
    assert sorted(pk for _, (pk,) in broker()) == sorted(WebhookEvent.objects.values_list("pk", flat=True))


def test_a_refused_wake_is_not_counted_so_the_next_webhook_tries_again(
    settings, post_webhook, django_capture_on_commit_callbacks
):
    from tests.support.brokers import broker_down

    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "WAKE_INTERVAL_SECONDS": 3600}
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        post_webhook(inbound(wa_id="919840000001"))
        post_webhook(inbound(wa_id="919840000002"))
    assert WebhookEvent.objects.unqueued().count() == 2


def test_a_batch_also_applies_reports_of_its_messages_stored_earlier_and_still_waiting(
    changes, django_capture_on_commit_callbacks
):
    # The race record_status leaves to the sweep: a report stored while its message was not visible yet.
    message = sent("wamid.EARLIER")
    StatusUpdate.objects.create(wamid=message.wamid, status="sent", timestamp=at(T0), payload={})
    with django_capture_on_commit_callbacks(execute=True):
        processing.process_batch([status_event(message.wamid, "delivered", offset=1).pk])
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.delivered_at) == ("delivered", at(T0), at(T0 + 1))
    assert changes == [("wamid.EARLIER", "sent", "pending"), ("wamid.EARLIER", "delivered", "sent")]
    assert set(StatusUpdate.objects.values_list("status", "applied", "message")) == {
        ("sent", True, message.pk),
        ("delivered", True, message.pk),
    }


def test_a_failed_status_in_a_batch_keeps_its_error_details_on_the_message_and_the_report():
    message = sent("wamid.DETAILS")
    error = {
        "code": 131026,
        "title": "Message undeliverable",
        "message": "Message undeliverable",
        "error_data": {"details": "Receiver is incapable of receiving this message"},
    }
    processing.process_batch([status_event(message.wamid, "failed", errors=[error]).pk])
    message.refresh_from_db()
    assert (message.error_code, message.error_title, message.error_details) == (
        "131026",
        "Message undeliverable",
        "Receiver is incapable of receiving this message",
    )
    report = StatusUpdate.objects.get(wamid=message.wamid)
    assert (report.error_code, report.error_details, report.applied) == (
        "131026",
        "Receiver is incapable of receiving this message",
        True,
    )
    assert report.payload["errors"][0]["code"] == 131026


@pytest.mark.django_db(transaction=True)
def test_a_webhook_stored_while_a_woken_worker_lingers_is_processed_within_a_poll_not_at_the_end(settings):
    """The view skips the publish of webhooks a recent wake covers; the woken worker keeps looking.

    Real threads on the real database: the drain runs in one with a 3-second window; a row is
    committed from this thread once it is lingering on the empty inbox. It must be processed
    while the drain still lingers, long before the window closes (a look only at the end of the
    window, as before, processed it after 3 s).
    """
    import threading
    import time

    from django.db import connection

    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "WAKE_INTERVAL_SECONDS": 3.0}
    reports: list[drain.DrainReport] = []

    def lingering_worker() -> None:
        try:
            reports.append(drain.drain(linger=True))
        finally:
            connection.close()

    worker = threading.Thread(target=lingering_worker)
    started = time.monotonic()
    worker.start()
    time.sleep(0.2)  # past its first, empty look
    event = WebhookEventFactory(body=dumps(inbound(wa_id="919850000001")))
    stored = time.monotonic()
    while WebhookEvent.objects.get(pk=event.pk).status == WebhookEvent.Status.PENDING:
        assert time.monotonic() - started < 30, "the lingering worker never processed the row"
        time.sleep(0.01)
    found_after = time.monotonic() - stored
    still_lingering = worker.is_alive()
    worker.join(timeout=30)
    assert still_lingering, f"processed only when the window closed ({found_after:.2f} s after it was stored)"
    assert found_after < 1.5
    assert reports[0].processed == 1
    assert time.monotonic() - started >= 3.0  # and it still lingered out the whole window
