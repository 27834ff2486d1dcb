"""Statuses of our outbound messages only move forward, by meaning and Meta's time, never by arrival."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory, WebhookEventFactory
from whatsapp_leads.models import Message, StatusUpdate, WebhookEvent
from whatsapp_leads.parsing import Business
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    WABA_ID,
    dumps,
    envelope,
    status,
    statuses_value,
)
from whatsapp_leads.services import statuses
from whatsapp_leads.services.conversations import record_outbound
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db

T0 = 1749416400
WAMID = "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSOUQ5RkI0QjE2RDJGMzQ1NjAA"
BUSINESS = Business(waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER)
# Meta's sample error for a failed delivery (status reference, code 131049).
ECOSYSTEM_ERROR = {
    "code": 131049,
    "title": "This message was not delivered to maintain healthy ecosystem engagement.",
    "message": "This message was not delivered to maintain healthy ecosystem engagement.",
    "error_data": {
        "details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
    },
    "href": "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes",
}


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def report(*items: dict) -> WebhookEvent:
    """Deliver one webhook carrying these statuses and process it."""
    event = WebhookEventFactory(body=dumps(envelope(statuses_value(list(items)))))
    outcome = process_event(event.pk)
    event.refresh_from_db()
    assert outcome.status == "processed", event.error
    return event


def sent_message(wamid: str = WAMID) -> Message:
    return record_outbound(
        LeadFactory(), wamid=wamid, text="Our home loan brochure", business=BUSINESS, timestamp=at(T0 - 5)
    )


def test_outbound_message_starts_pending():
    message = sent_message()
    assert (message.direction, message.status) == (Message.Direction.OUTBOUND, Message.Status.PENDING)


def test_statuses_move_a_message_forward_and_record_each_time():
    sent_message()
    report(status(WAMID, "sent", timestamp=T0))
    report(status(WAMID, "delivered", timestamp=T0 + 2))
    report(status(WAMID, "read", timestamp=T0 + 30))
    message = Message.objects.get(wamid=WAMID)
    assert message.status == Message.Status.READ
    assert (message.sent_at, message.delivered_at, message.read_at) == (at(T0), at(T0 + 2), at(T0 + 30))
    assert message.status_timestamp == at(T0 + 30)


def test_delivered_arriving_after_read_does_not_move_it_back_but_its_time_is_kept():
    sent_message()
    report(status(WAMID, "read", timestamp=T0 + 30))
    report(status(WAMID, "delivered", timestamp=T0 + 2))
    message = Message.objects.get(wamid=WAMID)
    assert message.status == Message.Status.READ
    assert message.status_timestamp == at(T0 + 30)
    assert message.delivered_at == at(T0 + 2)


def test_out_of_order_statuses_in_one_batch_end_at_the_furthest():
    sent_message()
    report(
        status(WAMID, "read", timestamp=T0 + 30),
        status(WAMID, "sent", timestamp=T0),
        status(WAMID, "delivered", timestamp=T0 + 2),
    )
    message = Message.objects.get(wamid=WAMID)
    assert message.status == Message.Status.READ
    assert (message.sent_at, message.delivered_at, message.read_at) == (at(T0), at(T0 + 2), at(T0 + 30))


def test_failed_records_metas_error_and_is_terminal():
    sent_message()
    report(status(WAMID, "sent", timestamp=T0))
    report(status(WAMID, "failed", timestamp=T0 + 3, errors=[ECOSYSTEM_ERROR]))
    report(status(WAMID, "delivered", timestamp=T0 + 4), status(WAMID, "read", timestamp=T0 + 5))
    message = Message.objects.get(wamid=WAMID)
    assert message.status == Message.Status.FAILED
    assert message.failed_at == at(T0 + 3)
    assert message.error_code == "131049"
    assert message.error_title == ECOSYSTEM_ERROR["title"]


def test_every_report_is_kept_once_per_message_and_status():
    sent_message()
    report(status(WAMID, "sent", timestamp=T0), status(WAMID, "delivered", timestamp=T0 + 2))
    report(status(WAMID, "delivered", timestamp=T0 + 2))  # Meta's retry
    assert sorted(StatusUpdate.objects.values_list("status", flat=True)) == ["delivered", "sent"]
    assert not StatusUpdate.objects.filter(applied=False).exists()


def test_status_value_we_do_not_know_is_kept_and_changes_nothing():
    sent_message()
    report(status(WAMID, "delivered", timestamp=T0 + 2))
    report(status(WAMID, "deleted", timestamp=T0 + 9))
    assert StatusUpdate.objects.get(status="unknown").payload["status"] == "deleted"
    assert Message.objects.get(wamid=WAMID).status == Message.Status.DELIVERED


def test_status_for_an_unknown_message_waits_and_is_applied_when_the_message_is_recorded():
    report(status(WAMID, "delivered", timestamp=T0 + 2), status(WAMID, "sent", timestamp=T0))
    waiting = StatusUpdate.objects.filter(wamid=WAMID)
    assert waiting.count() == 2
    assert not waiting.filter(applied=True).exists()
    assert not Message.objects.filter(wamid=WAMID).exists()

    message = sent_message()

    assert message.status == Message.Status.DELIVERED
    assert (message.sent_at, message.delivered_at) == (at(T0), at(T0 + 2))
    assert set(waiting.values_list("applied", "message")) == {(True, message.pk)}


def test_status_arriving_after_the_message_is_applied_at_once():
    message = sent_message()
    report(status(WAMID, "sent", timestamp=T0))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert StatusUpdate.objects.get().message == message


def test_reconcile_applies_statuses_that_missed_their_message():
    """The race the normal path cannot see: message and status committed by two workers at once."""
    report(status(WAMID, "read", timestamp=T0 + 30))
    message = MessageFactory(
        wamid=WAMID,
        conversation=ConversationFactory(),
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.PENDING,
        timestamp=at(T0 - 5),
    )

    assert statuses.reconcile() == 1

    message.refresh_from_db()
    assert (message.status, message.read_at) == (Message.Status.READ, at(T0 + 30))
    assert StatusUpdate.objects.get().applied
    assert statuses.reconcile() == 0


def test_status_never_changes_an_inbound_message():
    inbound_message = MessageFactory(wamid=WAMID, status=Message.Status.RECEIVED)
    report(status(WAMID, "read", timestamp=T0))
    inbound_message.refresh_from_db()
    assert inbound_message.status == Message.Status.RECEIVED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_recording_an_outbound_message_outside_a_transaction_works():
    """A sender calls it in autocommit right after the Graph API answers; the lead lock needs a transaction."""
    report(status(WAMID, "sent", timestamp=T0))
    message = sent_message()
    assert message.status == Message.Status.SENT
