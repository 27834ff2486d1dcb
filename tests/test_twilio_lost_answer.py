"""A Twilio send whose answer was lost is settled by Twilio's own status callback, never by a second send.

Twilio's callbacks echo nothing of ours in their form, so our outbox id rides in the
``StatusCallback`` URL's query (``wl_callback``), which ``X-Twilio-Signature`` covers. The fake
Twilio (tests/support/fake_twilio.py) creates the message and answers after our read timeout;
the callback is then posted, signed over that URL, to our webhook, as Twilio would.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from django.utils import timezone

from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory
from tests.support.fake_twilio import OUR_NUMBER, FakeTwilio, point_settings_at
from whatsapp_leads.models import Message, WebhookEvent
from whatsapp_leads.providers.base import QUERY_STRING_HEADER
from whatsapp_leads.providers.twilio.callback import callback_from_query, status_callback_url
from whatsapp_leads.providers.twilio.signature import form_params, sign
from whatsapp_leads.providers.twilio.simulation import status_callback
from whatsapp_leads.services.outbound import outbox
from whatsapp_leads.services.processing import process_event

PUBLIC = "https://crm.example.com/whatsapp/webhook/twilio/"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def fake(settings):
    server = FakeTwilio()
    with server.serve():
        point_settings_at(settings, server, TWILIO_PUBLIC_URL=PUBLIC, SEND_TIMEOUT_SECONDS=(2.0, 0.3))
        yield server


def twilio_lead():
    at = timezone.now() - timedelta(hours=1)
    lead = LeadFactory(wa_id="919876543210", last_message_at=at)
    conversation = ConversationFactory(lead=lead, provider="twilio", phone_number_id=OUR_NUMBER,
                                       last_inbound_at=at, last_message_at=at, started_at=at)  # fmt: skip
    MessageFactory(conversation=conversation, timestamp=at, wamid="SM" + "9" * 32)
    return lead


def send_and_lose_the_answer(fake: FakeTwilio, lead) -> Message:
    fake.answer_delay = 1.0  # Twilio creates the message, its 201 comes after our 0.3 s read timeout
    queued = outbox.queue_send(lead, kind="text", content={"body": "Hi Asha, calling you at 5?"})
    assert isinstance(queued, Message)
    outbox.deliver(queued.pk)
    queued.refresh_from_db()
    fake.answer_delay = 0.0
    return queued


def callback_from_twilio(client, fake: FakeTwilio, status: str, *, sid: str, url: str | None = None,
                         capture=None) -> int:  # fmt: skip
    """Post the status callback Twilio posts for ``sid`` to the StatusCallback URL it was given."""
    url = url or fake.sends()[0]["StatusCallback"]
    body = urlencode(status_callback(sid, status, to="+919876543210")).encode()
    signature = sign(url, form_params(body), fake.token)
    query = urlsplit(url).query
    with capture(execute=True):
        response = client.generic("POST", f"/whatsapp/webhook/twilio/?{query}", body, content_type=FORM,
                                  HTTP_X_TWILIO_SIGNATURE=signature)  # fmt: skip
    if response.status_code == 200:
        process_event(WebhookEvent.objects.latest("pk").pk)
    return response.status_code


def test_the_status_callback_url_carries_our_outbox_id_after_the_public_urls_own_query():
    assert status_callback_url(PUBLIC, "wl-outbox:42") == f"{PUBLIC}?wl_callback=wl-outbox%3A42"
    assert (
        status_callback_url(f"{PUBLIC}?site=2", "wl-outbox:42")
        == f"{PUBLIC}?site=2&wl_callback=wl-outbox%3A42"
    )
    assert status_callback_url("", "wl-outbox:42") == ""  # no public URL: Twilio uses the console's
    assert callback_from_query("site=2&wl_callback=wl-outbox%3A42") == "wl-outbox:42"
    assert callback_from_query("") == callback_from_query("site=2") == ""


@pytest.mark.django_db
def test_lost_answer_but_twilio_created_it_the_first_callback_settles_it_and_nothing_is_sent_twice(
    client, fake, broker, django_capture_on_commit_callbacks
):
    lead = twilio_lead()
    message = send_and_lose_the_answer(fake, lead)
    assert message.send_state == "unknown" and outbox.is_placeholder(message.wamid)
    (created,) = fake.created
    assert fake.sends()[0]["StatusCallback"] == f"{PUBLIC}?wl_callback=wl-outbox%3A{message.pk}"

    assert callback_from_twilio(client, fake, "sent", sid=created["sid"],
                                capture=django_capture_on_commit_callbacks) == 200  # fmt: skip
    message.refresh_from_db()
    assert (message.send_state, message.wamid, message.status) == ("accepted", created["sid"], "sent")
    event = WebhookEvent.objects.order_by("-pk").first()
    assert event.headers[QUERY_STRING_HEADER] == f"wl_callback=wl-outbox%3A{message.pk}"

    callback_from_twilio(
        client, fake, "delivered", sid=created["sid"], capture=django_capture_on_commit_callbacks
    )
    message.refresh_from_db()
    assert message.status == "delivered" and message.error_words == ""
    with pytest.raises(ValueError):  # settled: nobody can send it again by mistake
        outbox.resend(message)
    assert outbox.sweep()["requeued"] == 0
    assert len(fake.sends()) == 1


@pytest.mark.django_db
def test_lost_answer_and_twilio_has_no_such_message_it_stays_unknown_until_a_person_resends(
    client, fake, broker, django_capture_on_commit_callbacks
):
    from tests.support.fake_twilio import Reply

    lead = twilio_lead()
    fake.queue(Reply(status=201, body={"sid": "SM" + "f" * 32}, delay=1.0))  # answered late, created nothing
    queued = outbox.queue_send(lead, kind="text", content={"body": "Hello"})
    assert isinstance(queued, Message)
    outbox.deliver(queued.pk)
    queued.refresh_from_db()
    assert queued.send_state == "unknown" and fake.created == []
    # a callback about some other message of ours, with no id of ours in its URL, changes nothing
    assert callback_from_twilio(client, fake, "delivered", sid="SM" + "e" * 32, url=PUBLIC,
                                capture=django_capture_on_commit_callbacks) == 200  # fmt: skip
    assert outbox.sweep()["requeued"] == 0
    queued.refresh_from_db()
    assert queued.send_state == "unknown"

    again = outbox.resend(queued)  # a person decided
    assert isinstance(again, Message)
    outbox.deliver(again.pk)
    again.refresh_from_db()
    assert again.send_state == "accepted" and len(fake.created) == 1


@pytest.mark.django_db
def test_a_callback_whose_outbox_id_was_added_after_signing_is_refused_and_stored_nowhere(
    client, fake, broker, django_capture_on_commit_callbacks
):
    lead = twilio_lead()
    message = send_and_lose_the_answer(fake, lead)
    body = urlencode(status_callback(fake.created[0]["sid"], "delivered")).encode()
    signature = sign(PUBLIC, form_params(body), fake.token)  # signed without our query
    response = client.generic("POST", f"/whatsapp/webhook/twilio/?wl_callback=wl-outbox%3A{message.pk}", body,
                              content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature)  # fmt: skip
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    message.refresh_from_db()
    assert message.send_state == "unknown"


@pytest.mark.django_db
def test_a_callback_naming_a_message_that_already_has_twilios_sid_leaves_it_alone(
    client, fake, broker, django_capture_on_commit_callbacks
):
    lead = twilio_lead()
    queued = outbox.queue_send(lead, kind="text", content={"body": "Hello"})
    assert isinstance(queued, Message)
    outbox.deliver(queued.pk)
    queued.refresh_from_db()
    assert queued.send_state == "accepted"
    # a callback for another sid carrying this message's id (a replayed URL): this message keeps its sid
    callback_from_twilio(
        client, fake, "read", sid="SM" + "d" * 32, capture=django_capture_on_commit_callbacks
    )
    queued.refresh_from_db()
    assert queued.wamid == fake.created[0]["sid"] and queued.status == "pending"
