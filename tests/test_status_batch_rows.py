"""The status batch's cheaper rows: partial instances, reports stored applied, the drain's one-statement claim.

The behaviour (forward only, one bad status fails alone, signals) is in test_statuses.py and
test_drain.py; these pin what the faster path must keep equal to the general one, on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest
from django.db import connection

from tests.support.factories import WebhookEventFactory
from whatsapp_leads.models import Message, StatusUpdate, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, envelope, status, statuses_value
from whatsapp_leads.services import bulk, drain, processing, statuses
from whatsapp_leads.services.partial import partial_instances

from .test_drain import T0, sent, status_event

pytestmark = pytest.mark.django_db


def test_partial_instances_hold_the_loaded_fields_and_load_the_others_when_read():
    message = sent("wamid.PARTIAL1")
    rows = Message.objects.filter(pk=message.pk).values_list("id", *statuses.MESSAGE_FIELDS)
    (partial,) = partial_instances(Message, ("id", *statuses.MESSAGE_FIELDS), rows)
    full = Message.objects.get(pk=message.pk)

    assert partial.pk == full.pk and not partial._state.adding
    for name in statuses.MESSAGE_FIELDS:
        field = Message._meta.get_field(name)
        assert getattr(partial, field.attname) == getattr(full, field.attname), name
    assert "payload" in partial.get_deferred_fields() and "text" in partial.get_deferred_fields()
    assert partial.text == full.text  # a deferred field loads when read


def test_loaded_events_match_a_full_load_and_keep_the_rest_deferred():
    event = WebhookEventFactory(body=b'{"object": "x"}', headers={"x-request-id": "r1"})
    processing._load_batch([event.pk])  # counts an attempt
    (loaded,) = processing._load_batch([event.pk])
    full = WebhookEvent.objects.get(pk=event.pk)

    assert (loaded.pk, loaded.provider, loaded.body_bytes, loaded.headers) == (
        full.pk,
        full.provider,
        full.body_bytes,
        full.headers,
    )
    assert (loaded.received_at, loaded.attempts) == (full.received_at, full.attempts) == (full.received_at, 2)
    assert "error" in loaded.get_deferred_fields()
    assert loaded.status == WebhookEvent.Status.PENDING  # deferred, loaded when read


def test_a_known_messages_reports_are_stored_applied_and_an_unknown_ones_wait():
    message = sent("wamid.KNOWN1")
    outcomes = processing.process_batch(
        [status_event("wamid.KNOWN1", "delivered").pk, status_event("wamid.UNKNOWN1", "delivered").pk]
    )

    assert {outcome.status for outcome in outcomes.values()} == {"processed"}
    known = StatusUpdate.objects.get(wamid="wamid.KNOWN1")
    waiting = StatusUpdate.objects.get(wamid="wamid.UNKNOWN1")
    assert (known.applied, known.message_id) == (True, message.pk)
    assert (waiting.applied, waiting.message_id) == (False, None)
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_report_stored_before_its_message_is_applied_with_the_next_batch():
    first = status_event("wamid.LATE1", "sent")
    processing.process_batch([first.pk])
    message = sent("wamid.LATE1")
    StatusUpdate.objects.filter(wamid="wamid.LATE1").update(applied=False, message=None)  # as if raced

    processing.process_batch([status_event("wamid.LATE1", "read", offset=2).pk])

    rows = dict(StatusUpdate.objects.filter(wamid="wamid.LATE1").values_list("status", "applied"))
    assert rows == {"sent": True, "read": True}
    assert set(StatusUpdate.objects.filter(wamid="wamid.LATE1").values_list("message_id", flat=True)) == {
        message.pk
    }
    message.refresh_from_db()
    assert (message.status, message.sent_at is not None) == ("read", True)


@pytest.mark.postgres
def test_json_rows_write_what_get_db_prep_save_would():
    message = sent("wamid.JSONROWS1")
    message.status_timestamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    message.error_words = "words"
    fields = [
        Message._meta.get_field(name) for name in ("id", "status_timestamp", "error_words", "forwarded")
    ]
    fast = bulk.json_rows([message], fields)
    slow = bulk.dumps_rows(
        [{str(f.column): f.get_db_prep_save(getattr(message, f.attname), connection) for f in fields}]
    )
    assert fast == slow
    message.status_timestamp = datetime(2026, 1, 2, 3, 4, 5)  # naive: still made aware, with Django's warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow = bulk.dumps_rows(
            [{str(f.column): f.get_db_prep_save(getattr(message, f.attname), connection) for f in fields}]
        )
        assert bulk.json_rows([message], fields) == slow
    assert '"status_timestamp":"2026-01-02T03:04:05+' in slow  # an aware time, as Django makes it


@pytest.mark.postgres
def test_the_drains_one_statement_claim_counts_loads_and_releases_every_lock():
    sent("wamid.CLAIM1")
    events = [status_event("wamid.CLAIM1", state, offset=n) for n, state in enumerate(("sent", "delivered"))]
    done = WebhookEventFactory(
        body=dumps(envelope(statuses_value([status("wamid.CLAIM1", "read", timestamp=T0 + 5)])))
    )
    WebhookEvent.objects.filter(pk=done.pk).update(status=WebhookEvent.Status.PROCESSED)

    claimed, loaded = drain._claim_loaded(10)

    assert claimed == [event.pk for event in events] == [event.pk for event in loaded]
    assert [event.attempts for event in loaded] == [1, 1]
    assert set(WebhookEvent.objects.filter(pk__in=claimed).values_list("attempts", flat=True)) == {1}
    drain._unlock(claimed)
    assert drain.drain().processed == 2  # claimed but not processed here: still pending, and free again
    assert set(WebhookEvent.objects.filter(pk__in=claimed).values_list("attempts", flat=True)) == {2}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0


def test_partial_instances_skip_the_constructor_only_when_nothing_could_tell(monkeypatch):
    from django.db.models.signals import post_init

    message = sent("wamid.PLAIN1")
    names = ("id", *statuses.MESSAGE_FIELDS)
    rows = list(Message.objects.filter(pk=message.pk).values_list(*names))
    (plain,) = partial_instances(Message, names, rows)
    attnames = [Message._meta.get_field(name).attname for name in names]
    constructed = Message.from_db(connection.alias, attnames, rows[0])  # Django's own deferred load

    assert plain.__dict__.keys() - {"_state"} == constructed.__dict__.keys() - {"_state"}
    assert (plain._state.adding, plain._state.db) == (constructed._state.adding, constructed._state.db)
    assert plain.get_deferred_fields() == constructed.get_deferred_fields()
    plain.status = "read"
    plain.save(update_fields=["status"])  # a loaded instance saves as any other
    assert Message.objects.get(pk=message.pk).status == "read"

    seen: list[int] = []

    def initialised(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(initialised, sender=Message, weak=False)
    try:
        partial_instances(Message, names, rows)
    finally:
        post_init.disconnect(initialised, sender=Message)
    assert seen == [message.pk]  # a receiver listening: the constructor runs, its signal with it


def test_the_batch_locks_and_loads_its_messages_as_the_queryset_would():
    first, second = sent("wamid.LOCK1"), sent("wamid.LOCK2")
    names = ("id", *statuses.MESSAGE_FIELDS)
    from django.db import transaction

    with transaction.atomic():
        locked = statuses._lock_messages(sorted([second.wamid, first.wamid, "wamid.UNKNOWN"]))
    expected = list(Message.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk").values_list(*names))
    assert [tuple(getattr(m, Message._meta.get_field(n).attname) for n in names) for m in locked] == expected


def test_a_batchs_signals_fire_after_its_commit_in_order_and_not_when_it_is_undone(
    django_capture_on_commit_callbacks,
):
    from django.db import transaction

    from whatsapp_leads.providers.registry import get_provider
    from whatsapp_leads.signals import message_status_changed

    first, second = sent("wamid.SIG1"), sent("wamid.SIG2")
    seen: list[tuple[str, str, str]] = []

    def changed(sender, message, status, previous_status, **kwargs):
        seen.append((message.wamid, status, previous_status))

    def reports(wamid: str) -> list:
        items = [
            status(wamid, state, timestamp=T0 + offset) for state, offset in (("delivered", 1), ("read", 2))
        ]
        return get_provider("meta").parse(dumps(envelope(statuses_value(items))), headers={})

    message_status_changed.connect(changed, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True) as undone, transaction.atomic():
            statuses.record_statuses(reports(first.wamid))
            transaction.set_rollback(True)
        assert seen == [] and undone == []  # undone: nothing announced
        with django_capture_on_commit_callbacks(execute=True) as hooks:
            with transaction.atomic():
                statuses.record_statuses(reports(second.wamid) + reports(first.wamid))
            assert seen == []  # not before the commit
    finally:
        message_status_changed.disconnect(changed)
    assert len(hooks) == 1  # one hook for the batch
    # Each message's changes in the order applied (messages in id order), once each.
    assert seen == [
        (first.wamid, "delivered", "pending"),
        (first.wamid, "read", "delivered"),
        (second.wamid, "delivered", "pending"),
        (second.wamid, "read", "delivered"),
    ]


@pytest.mark.postgres
def test_messages_and_events_leave_room_on_their_pages_for_a_batchs_updates():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [["whatsapp_leads_message", "whatsapp_leads_webhookevent"]],
        )
        found = cursor.fetchall()
    assert found == [
        ("whatsapp_leads_message", ["fillfactor=50"]),
        ("whatsapp_leads_webhookevent", ["fillfactor=50"]),
    ]
