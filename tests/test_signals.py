"""Signals reach the host CRM only after the transaction commits, never for rolled-back rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction

from tests.support.factories import LeadFactory, UserFactory, WebhookEventFactory
from tests.support.world import T0
from tests.test_processing import two_users_one_broken
from whatsapp_leads import signals
from whatsapp_leads.models import Lead, Message
from whatsapp_leads.parsing import Business
from whatsapp_leads.providers.meta.parser import parse_payload
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
from whatsapp_leads.services.conversations import record_outbound
from whatsapp_leads.services.ingest import apply_update
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db

LEAD_SIGNALS = ("lead_created", "lead_assigned", "message_received")


class HostCRMAbort(Exception):
    """Host code failing after our rows were written in its transaction."""


@pytest.fixture
def heard():
    """Connect a receiver to every signal; yields the (signal name, kwargs) it heard, in order."""
    calls: list[tuple[str, dict]] = []
    receivers = {}
    for name in (*LEAD_SIGNALS, "message_status_changed"):

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal")
            calls.append((_name, kwargs))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver, weak=False)
    yield calls
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def names(calls) -> list[str]:
    return [name for name, _ in calls]


def test_lead_signals_fire_after_commit_with_the_stored_rows(
    heard, settings, django_capture_on_commit_callbacks
):
    desk = UserFactory(username="sales-desk")
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DEFAULT_OWNER": "sales-desk"}
    event = WebhookEventFactory(body=dumps(inbound(text="Hi, I'm interested", timestamp=T0)))

    with django_capture_on_commit_callbacks(execute=True):
        assert process_event(event.pk).status == "processed"
        assert heard == []  # rows written, transaction still open: the host hears nothing yet

    lead, message = Lead.objects.get(), Message.objects.get()
    assert names(heard) == ["lead_assigned", "lead_created", "message_received"]
    calls = dict(heard)
    assert calls["lead_created"] == {"lead": lead, "message": message}
    assert calls["lead_assigned"] == {
        "lead": lead,
        "owner": desk,
        "previous_owner": None,
        "reason": lead.assignments.get().reason,
    }
    assert calls["message_received"] == {"message": message, "lead": lead}


def test_a_repeat_message_only_announces_itself(heard, django_capture_on_commit_callbacks):
    first = WebhookEventFactory(body=dumps(inbound(timestamp=T0)))
    second = WebhookEventFactory(body=dumps(inbound(text="Any update?", timestamp=T0 + 60)))
    process_event(first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        process_event(second.pk)
    assert names(heard) == ["message_received"]
    assert heard[0][1]["message"].text == "Any update?"


def test_a_redelivered_message_announces_nothing(heard, django_capture_on_commit_callbacks):
    body = dumps(inbound(message_id="wamid.ONCE", timestamp=T0))
    process_event(WebhookEventFactory(body=body).pk)
    with django_capture_on_commit_callbacks(execute=True):
        process_event(WebhookEventFactory(body=body).pk)
    assert heard == []


def test_no_signal_fires_when_the_transaction_rolls_back(heard, django_capture_on_commit_callbacks):
    (update,) = parse_payload(inbound(ad_id="120226305854810726", timestamp=T0))

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(HostCRMAbort),
        transaction.atomic(),
    ):
        apply_update(update)
        assert Lead.objects.exists()
        raise HostCRMAbort

    assert heard == []
    assert callbacks == []
    assert not Lead.objects.exists()


def test_only_the_updates_that_committed_are_announced(heard, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "ADAPTER": "tests.test_processing.RefusingAdapter"}
    event = WebhookEventFactory(body=two_users_one_broken())

    with django_capture_on_commit_callbacks(execute=True):
        assert process_event(event.pk).status == "failed"

    created = [kwargs["lead"].wa_id for name, kwargs in heard if name == "lead_created"]
    received = [kwargs["message"].wamid for name, kwargs in heard if name == "message_received"]
    assert created == ["919876543210"]
    assert received == ["wamid.GOODUSER"]


def test_status_change_is_announced_after_commit_with_the_previous_status(
    heard, django_capture_on_commit_callbacks
):
    business = Business(waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER)
    message = record_outbound(
        LeadFactory(),
        wamid="wamid.OUTBOUND1",
        text="Brochure",
        business=business,
        timestamp=datetime.fromtimestamp(T0, tz=UTC),
    )
    event = WebhookEventFactory(
        body=dumps(
            envelope(
                statuses_value(
                    [
                        status("wamid.OUTBOUND1", "delivered", timestamp=T0 + 2),
                        status("wamid.OUTBOUND1", "read", timestamp=T0 + 9),
                    ]
                )
            )
        )
    )

    with django_capture_on_commit_callbacks(execute=True):
        process_event(event.pk)
        assert heard == []

    assert [(kw["message"].pk, kw["previous_status"], kw["status"]) for _, kw in heard] == [
        (message.pk, "pending", "delivered"),
        (message.pk, "delivered", "read"),
    ]


def test_a_status_that_does_not_move_the_message_is_not_announced(heard, django_capture_on_commit_callbacks):
    business = Business(waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER)
    record_outbound(
        LeadFactory(),
        wamid="wamid.OUTBOUND2",
        text="Hi",
        business=business,
        timestamp=datetime.fromtimestamp(T0, tz=UTC),
    )
    process_event(
        WebhookEventFactory(
            body=dumps(envelope(statuses_value([status("wamid.OUTBOUND2", "read", timestamp=T0 + 9)])))
        ).pk
    )
    late_delivered = WebhookEventFactory(
        body=dumps(envelope(statuses_value([status("wamid.OUTBOUND2", "delivered", timestamp=T0 + 2)])))
    )
    with django_capture_on_commit_callbacks(execute=True):
        process_event(late_delivered.pk)
    assert heard == []
