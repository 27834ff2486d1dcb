"""Plain follow-ups applied set-based (``inbound_batch``) leave exactly the rows the one-by-one path leaves.

Each scenario is run twice on the same seed: once as one ``process_batch`` (the set-based path takes
the plain follow-ups, the rest goes alone in its place) and once event by event with
``process_event`` (every update alone). Rows are compared by their natural keys (wamid, wa_id,
number), every column but ids and write times; the signals must be the same, with the same
arguments, in the same order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.factories import WebhookEventFactory
from whatsapp_leads import signals
from whatsapp_leads.models import Conversation, Lead, Message, WebhookEvent
from whatsapp_leads.parsing import Business
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    WABA_ID,
    dumps,
    inbound,
)
from whatsapp_leads.services import conversations, processing

pytestmark = pytest.mark.django_db

T0 = 1749416383
AD = "120226305854810726"
USERS = ["919800000001", "919800000002", "919800000003"]
BUSINESS = Business(
    provider="meta", waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER
)


def body(wa_id: str, n: int, *, text: str = "", at: int | None = None, **extra: Any) -> bytes:
    return dumps(
        inbound(
            wa_id=wa_id,
            name=extra.pop("name", f"User {wa_id[-1]}"),
            text=text or f"Question {n} from {wa_id}",
            message_id=extra.pop("message_id", f"wamid.{wa_id}.{n}"),
            timestamp=at if at is not None else T0 + n,
            **extra,
        )
    )


def seed() -> None:
    """Three leads from an ad, the second one answered by a rep (its wait ended)."""
    for i, wa_id in enumerate(USERS):
        processing.process_event(WebhookEventFactory(body=body(wa_id, i, ad_id=AD)).pk)
    conversations.record_outbound(
        Lead.objects.get(wa_id=USERS[1]),
        wamid="wamid.REP.1",
        text="Here are the documents",
        business=BUSINESS,
        timestamp=datetime.fromtimestamp(T0 + 5, tz=UTC),
        origin="rep",
    )


def rows() -> dict[str, Any]:
    """Every row the processing writes, by natural key, without ids and write times."""
    skip = {"id", "created_at", "updated_at", "webhook_event_id", "conversation_id", "reply_to_id", "lead_id"}
    wa_of = dict(Lead.objects.values_list("pk", "wa_id"))
    thread_of = {c.pk: (wa_of[c.lead_id], c.phone_number_id) for c in Conversation.objects.all()}
    wamid_of = dict(Message.objects.values_list("pk", "wamid"))
    return {
        "leads": {
            row["wa_id"]: {k: v for k, v in row.items() if k not in skip} for row in Lead.objects.values()
        },
        "conversations": {
            thread_of[row["id"]]: {k: v for k, v in row.items() if k not in skip}
            for row in Conversation.objects.values()
        },
        "messages": {
            row["wamid"]: {
                **{k: v for k, v in row.items() if k not in skip},
                "thread": thread_of[row["conversation_id"]],
                "reply_to": wamid_of.get(row["reply_to_id"]),
            }
            for row in Message.objects.values()
        },
        "events": sorted(WebhookEvent.objects.values_list("update_count", "status", "error")),
    }


@pytest.fixture
def heard():
    """Every signal of the app, with the arguments a host reads, in the order they fired."""
    calls: list[tuple] = []

    def on(name: str):
        def receiver(sender, **kwargs):
            lead = kwargs.get("lead")
            message = kwargs.get("message")
            calls.append(
                (
                    name,
                    message.wamid if message is not None else None,
                    message.pk is not None if message is not None else None,
                    message.conversation.message_count if message is not None else None,
                    lead.wa_id if lead is not None else None,
                    lead.pk is not None if lead is not None else None,
                    lead.inbound_count if lead is not None else None,
                    lead.unread_count if lead is not None else None,
                    lead.last_message_preview if lead is not None else None,
                )
            )

        return receiver

    receivers = {name: on(name) for name in ("lead_created", "lead_assigned", "message_received")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    yield calls
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def run_both(bodies: list[bytes], heard, capture) -> tuple[dict, dict, list, list, int, int]:
    """(rows batched, rows alone, signals batched, signals alone, queries batched, queries alone)."""
    results = []
    for mode in ("batch", "alone"):
        Lead.objects.all().delete()
        WebhookEvent.objects.all().delete()
        seed()
        heard.clear()
        ids = [WebhookEventFactory(body=b).pk for b in bodies]
        with CaptureQueriesContext(connection) as queries, capture(execute=True):
            if mode == "batch":
                processing.process_batch(ids)
            else:
                for pk in ids:
                    processing.process_event(pk)
        results.append((rows(), list(heard), len(queries)))
    (batch_rows, batch_heard, batch_q), (alone_rows, alone_heard, alone_q) = results
    return batch_rows, alone_rows, batch_heard, alone_heard, batch_q, alone_q


def test_plain_follow_ups_of_a_batch_leave_the_rows_and_signals_of_the_one_by_one_path(
    heard, django_capture_on_commit_callbacks
):
    bodies = [body(USERS[n % 3], 10 + n) for n in range(9)]  # interleaved, three each
    batch_rows, alone_rows, batch_heard, alone_heard, batch_q, alone_q = run_both(
        bodies, heard, django_capture_on_commit_callbacks
    )
    assert batch_rows == alone_rows
    assert batch_heard == alone_heard
    assert [call[0] for call in batch_heard] == ["message_received"] * 9
    assert batch_q < alone_q / 3  # the set-based path did take them


def test_a_batch_mixing_follow_ups_with_what_must_go_alone_converges_on_the_same_rows_and_signals(
    heard, django_capture_on_commit_callbacks
):
    new = "919800000009"
    bodies = [
        body(USERS[0], 10),
        body(USERS[1], 11),
        body(USERS[0], 10),  # a redelivery in the same batch
        body(new, 12, ad_id=AD),  # a new ad lead...
        body(new, 13),  # ...and its follow-up, after it in the batch
        body(USERS[2], 14, text="STOP"),  # consent keyword
        body(USERS[2], 15),
        body(USERS[1], 1, message_id="wamid.late"),  # older than what is counted: a recomputation
        body(USERS[0], 16, name="Asha New Name"),  # the profile changed
        body(USERS[0], 17),
        body(USERS[1], 18, ad_id=AD),  # a known lead clicks the ad again
        body(USERS[1], 19),
    ]
    batch_rows, alone_rows, batch_heard, alone_heard, *_ = run_both(
        bodies, heard, django_capture_on_commit_callbacks
    )
    assert batch_rows == alone_rows
    assert batch_heard == alone_heard
    assert Lead.objects.get(wa_id=USERS[2]).marketing_opt_out


def test_a_poisoned_follow_up_fails_alone_with_its_reason_and_its_neighbours_are_applied(
    heard, django_capture_on_commit_callbacks
):
    seed()
    good = [WebhookEventFactory(body=body(USERS[n % 3], 10 + n)) for n in range(4)]
    poisoned = WebhookEventFactory(body=body(USERS[0], 20, message_id="wamid." + "X" * 300))
    after = WebhookEventFactory(body=body(USERS[1], 21))
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = processing.process_batch([*[e.pk for e in good], poisoned.pk, after.pk])
    assert {pk: o.status for pk, o in outcomes.items()} == {
        **{e.pk: "processed" for e in good},
        poisoned.pk: "failed",
        after.pk: "processed",
    }
    poisoned.refresh_from_db()
    assert "message id is longer than 255 characters" in poisoned.error
    assert Message.objects.filter(direction="inbound").count() == 3 + 5
    assert [call[1] for call in heard] == [f"wamid.{USERS[n % 3]}.{10 + n}" for n in range(4)] + [
        f"wamid.{USERS[1]}.21"
    ]


@pytest.mark.postgres
def test_a_follow_up_the_database_refuses_undoes_the_set_based_run_and_fails_alone(
    heard, django_capture_on_commit_callbacks, db_is_postgres
):
    """A row the database itself refuses (here a trigger) fails only its own update."""
    if not db_is_postgres:
        pytest.skip("PostgreSQL trigger")
    seed()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION wl_refuse_poison() RETURNS trigger AS $$ BEGIN"
            " IF NEW.text = 'poison' THEN RAISE EXCEPTION 'poisoned row refused'; END IF;"
            " RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER wl_refuse_poison BEFORE INSERT ON whatsapp_leads_message"
            " FOR EACH ROW EXECUTE FUNCTION wl_refuse_poison()"
        )
    events = [WebhookEventFactory(body=body(USERS[n % 3], 10 + n)) for n in range(3)]
    poisoned = WebhookEventFactory(body=body(USERS[0], 20, text="poison"))
    events.append(WebhookEventFactory(body=body(USERS[2], 21)))
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = processing.process_batch(
            [events[0].pk, events[1].pk, events[2].pk, poisoned.pk, events[3].pk]
        )
    assert outcomes[poisoned.pk].status == "failed"
    assert all(outcomes[e.pk].status == "processed" for e in events)
    poisoned.refresh_from_db()
    assert "poisoned row refused" in poisoned.error
    assert Message.objects.filter(direction="inbound").count() == 3 + 4
    assert [call[1] for call in heard] == [f"wamid.{USERS[n % 3]}.{10 + n}" for n in range(3)] + [
        f"wamid.{USERS[2]}.21"
    ]
    lead = Lead.objects.get(wa_id=USERS[0])
    assert lead.inbound_count == 2 and lead.unread_count == 2  # the ad click and question 10
