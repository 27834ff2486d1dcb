"""Sending through the outbox against the fake Cloud API, at the HTTP boundary.

Every test queues a send the way the admin and the API do (``outbox.queue_send``) and runs the
task's body (``outbox.deliver``); the fake answers as Meta does. What Meta received is read back
from the fake, so each kind's JSON is checked as Meta documents it.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.files.base import ContentFile

from tests.support.delivery import deliver as deliver_webhook
from tests.support.fake_graph import Reply, meta_send_error, server_error
from tests.support.outbound import approved_template, lead_who_wrote
from whatsapp_leads.models import Message, StatusUpdate
from whatsapp_leads.providers.meta.simulation import PHONE_NUMBER_ID, status_update
from whatsapp_leads.queueing import SEND_MESSAGE
from whatsapp_leads.services.outbound import outbox
from whatsapp_leads.services.outbound.refusal import OPTED_OUT, TEMPLATE_NOT_APPROVED, WINDOW_CLOSED, Refusal
from whatsapp_leads.signals import message_failed, message_sent

pytestmark = pytest.mark.django_db


@contextmanager
def heard(signal):
    calls: list[dict] = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


@pytest.fixture
def queue(broker, django_capture_on_commit_callbacks):
    """``queue(lead, kind=..., content=...)``: queue_send with its on-commit publish run."""

    def run(lead, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return outbox.queue_send(lead, **kwargs)

    return run


@pytest.fixture
def send(queue, django_capture_on_commit_callbacks):
    """Queue and deliver once; returns the refreshed message."""

    def run(lead, **kwargs):
        message = queue(lead, **kwargs)
        assert isinstance(message, Message), message
        with django_capture_on_commit_callbacks(execute=True):
            outbox.deliver(message.pk)
        message.refresh_from_db()
        return message

    return run


def test_a_text_is_stored_pending_before_any_http_call_then_sent_with_its_callback(
    cloud, queue, broker, django_capture_on_commit_callbacks
):
    lead = lead_who_wrote()

    message = queue(
        lead, kind="text", content={"body": "Hi Asha, see https://example.com", "preview_url": True}
    )

    assert (message.status, message.send_state, message.direction) == ("pending", "queued", "outbound")
    assert cloud.sent == []
    assert broker() == [(SEND_MESSAGE, (message.pk,))]
    with heard(message_sent) as sent, django_capture_on_commit_callbacks(execute=True):
        outcome = outbox.deliver(message.pk)
    assert outcome.status == "accepted"
    assert [c["message"].pk for c in sent] == [message.pk]
    assert cloud.sends() == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": lead.phone,
            "type": "text",
            "text": {"preview_url": True, "body": "Hi Asha, see https://example.com"},
            "biz_opaque_callback_data": f"wl-outbox:{message.pk}",
        }
    ]
    assert cloud.sent[0].path == f"/{cloud.version}/{PHONE_NUMBER_ID}/messages"
    assert cloud.sent[0].headers["Authorization"] == f"Bearer {cloud.token}"
    message.refresh_from_db()
    assert message.wamid == "wamid.FAKE00000001"
    assert (message.status, message.send_state) == ("pending", "accepted")


def test_statuses_after_the_send_move_it_forward_only(cloud, send):
    message = send(lead_who_wrote(), kind="text", content={"body": "Hello"})

    deliver_webhook(status_update(message.wamid, "read"))
    deliver_webhook(status_update(message.wamid, "delivered"))

    message.refresh_from_db()
    assert message.status == "read"
    assert message.delivered_at is not None


TEMPLATE = {"name": "loan_offer", "language": "en_US", "components": [
    {"type": "header", "parameters": [{"type": "image", "image": {"id": "2762702990552401"}}]},
    {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Jessica"}]},
    {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "LEAD_8841_YES"}]},
    {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "8841"}]},
]}  # fmt: skip

KINDS = [
    ("template", TEMPLATE, "template", {"template": {"name": "loan_offer", "language": {"code": "en_US"}, "components": TEMPLATE["components"]}}),
    ("image", {"link": "https://example.com/a.jpg", "caption": "The flat"}, "image",
     {"image": {"link": "https://example.com/a.jpg", "caption": "The flat"}}),
    ("document", {"link": "https://example.com/offer.pdf", "filename": "offer.pdf", "caption": "Your offer"}, "document",
     {"document": {"link": "https://example.com/offer.pdf", "caption": "Your offer", "filename": "offer.pdf"}}),
    ("buttons", {"body": "Book a visit?", "buttons": [{"id": "visit_yes", "title": "Yes"}, {"id": "visit_no", "title": "No"}]},
     "interactive", {"interactive": {"type": "button", "body": {"text": "Book a visit?"}, "action": {"buttons": [
         {"type": "reply", "reply": {"id": "visit_yes", "title": "Yes"}}, {"type": "reply", "reply": {"id": "visit_no", "title": "No"}}]}}}),
    ("list", {"body": "Which model?", "button": "Models", "sections": [{"title": "SUVs", "rows": [{"id": "suv_a", "title": "Model A", "description": "7 seats"}]}]},
     "interactive", {"interactive": {"type": "list", "body": {"text": "Which model?"}, "action": {"button": "Models", "sections": [
         {"title": "SUVs", "rows": [{"id": "suv_a", "title": "Model A", "description": "7 seats"}]}]}}}),
    ("reaction", {"message_id": "wamid.HBgLMTIz", "emoji": "👍"}, "reaction", {"reaction": {"message_id": "wamid.HBgLMTIz", "emoji": "👍"}}),
    ("request_contact_info", {"body": "Please share your number so we can call you back."}, "interactive",
     {"interactive": {"type": "request_contact_info", "body": {"text": "Please share your number so we can call you back."},
                      "action": {"name": "request_contact_info"}}}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "content", "meta_type", "part"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_reaches_meta_in_its_documented_shape(cloud, send, kind, content, meta_type, part):
    approved_template("loan_offer", body="Hi {{first_name}}", parameter_format="NAMED")
    lead = lead_who_wrote()

    message = send(lead, kind=kind, content=content)

    (body,) = cloud.sends()
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": lead.phone,
        "type": meta_type,
        **part,
        "biz_opaque_callback_data": f"wl-outbox:{message.pk}",
    }
    assert message.send_state == "accepted"


def test_an_uploaded_file_goes_through_metas_media_upload_and_is_sent_by_its_id(
    cloud, queue, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    lead = lead_who_wrote()
    upload = ContentFile(b"%PDF-1.7 brochure", name="brochure.pdf")
    upload.content_type = "application/pdf"
    message = queue(lead, kind="document", content={"caption": "Brochure"}, file=upload)
    assert (message.media_filename, message.media_mime_type) == ("brochure.pdf", "application/pdf")

    outbox.deliver(message.pk)

    (received,) = cloud.uploads
    assert received.path == f"/{cloud.version}/{PHONE_NUMBER_ID}/media"
    assert b"%PDF-1.7 brochure" in received.body and b'name="messaging_product"' in received.body
    (body,) = cloud.sends()
    assert body["document"] == {"id": "4490000001", "caption": "Brochure"}


def test_a_lead_known_only_by_business_scoped_id_is_addressed_by_recipient(cloud, send):
    lead = lead_who_wrote(wa_id=None, phone="", user_id="IN.13491208655302741918")

    send(lead, kind="request_contact_info", content={"body": "Could you share your number?"})

    (body,) = cloud.sends()
    assert body["recipient"] == "IN.13491208655302741918"
    assert "to" not in body


# --- the window and consent -----------------------------------------------------------------------


def test_free_form_is_refused_outside_the_24_hour_window_and_nothing_is_stored(cloud, queue, broker):
    lead = lead_who_wrote(hours_ago=25)

    answer = queue(lead, kind="text", content={"body": "Still interested?"})

    assert isinstance(answer, Refusal)
    assert answer.code == WINDOW_CLOSED
    assert "24 hours" in answer.words
    assert not Message.objects.filter(direction="outbound").exists()
    assert broker() == []


def test_an_approved_template_may_be_sent_outside_the_window(cloud, send):
    approved_template()
    lead = lead_who_wrote(hours_ago=30)

    message = send(lead, kind="template", content={"name": "loan_offer", "language": "en_US",
                                                   "parameters": ["Asha", "8.4%"]})  # fmt: skip

    assert message.send_state == "accepted"
    assert cloud.sends()[0]["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "8.4%"}]}
    ]
    assert message.text == "[template loan_offer] Hi Asha, your rate is 8.4%."


def test_a_template_that_is_not_approved_is_refused(cloud, queue):
    approved_template(status="PAUSED")
    answer = queue(lead_who_wrote(), kind="template", content={"name": "loan_offer", "language": "en_US"})
    assert isinstance(answer, Refusal) and answer.code == TEMPLATE_NOT_APPROVED


def test_marketing_is_never_sent_to_an_opted_out_lead_but_utility_still_is(cloud, queue, send):
    approved_template("festive_offer", category="MARKETING", body="Diwali offer!")
    approved_template("emi_reminder", category="UTILITY", body="Your EMI is due.")
    lead = lead_who_wrote(marketing_opt_out=True)

    refused = queue(lead, kind="template", content={"name": "festive_offer", "language": "en_US"})
    sent = send(lead, kind="template", content={"name": "emi_reminder", "language": "en_US"})

    assert isinstance(refused, Refusal) and refused.code == OPTED_OUT
    assert [b["template"]["name"] for b in cloud.sends()] == ["emi_reminder"]
    assert sent.send_state == "accepted"


# --- Meta's refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (131047, "24 hours"),
        (131026, "cannot receive WhatsApp"),
        (131049, "held this marketing message back"),
        (130472, "experiment"),
        (131050, "stopped marketing"),
        (131062, "ask for their phone"),
        (132001, "does not exist in that language"),
        (132000, "wrong number of values"),
        (190, "access token has expired"),
    ],
)
def test_metas_refusals_are_recorded_in_plain_words_and_announced(
    cloud, queue, code, words, django_capture_on_commit_callbacks
):
    lead = lead_who_wrote()
    message = queue(lead, kind="text", content={"body": "Hello"})
    cloud.queue("/messages", meta_send_error(code))

    with heard(message_failed) as failed, django_capture_on_commit_callbacks(execute=True):
        outcome = outbox.deliver(message.pk)

    message.refresh_from_db()
    assert outcome.status == "refused" and outcome.retry_in is None
    assert (message.status, message.send_state, message.error_code) == ("failed", "refused", str(code))
    assert message.error_title and words in message.error_words
    assert [c["code"] for c in failed] == [str(code)]
    assert len(cloud.requests_to("/messages")) == 1


def test_a_failed_status_webhook_explains_its_code_to_the_rep_and_is_announced(
    cloud, send, django_capture_on_commit_callbacks
):
    message = send(lead_who_wrote(), kind="text", content={"body": "Hello"})

    with heard(message_failed) as failed, django_capture_on_commit_callbacks(execute=True):
        deliver_webhook(status_update(message.wamid, "failed"))

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "131049")
    assert "held this marketing message back" in message.error_words
    assert [c["code"] for c in failed] == ["131049"]


@pytest.mark.parametrize("reply", [meta_send_error(130429), meta_send_error(131056), meta_send_error(80007),
                                   meta_send_error(4), server_error(500), server_error(503)],
                         ids=["130429", "131056", "80007", "4", "500", "503"])  # fmt: skip
def test_what_meta_certainly_did_not_accept_is_retried_with_backoff_and_sent_once(cloud, queue, reply):
    message = queue(lead_who_wrote(), kind="text", content={"body": "Hello"})
    cloud.queue("/messages", reply)

    first = outbox.deliver(message.pk)
    message.refresh_from_db()
    assert (first.status, message.send_state, message.status) == ("retrying", "retrying", "pending")
    assert 1 <= first.retry_in <= 5
    second = outbox.deliver(message.pk)

    assert second.status == "accepted"
    assert len(cloud.requests_to("/messages")) == 2
    assert len(cloud.sent) == 1


def test_a_refused_connection_is_retried(cloud, queue, settings):
    from tests.support.brokers import closed_port

    message = queue(lead_who_wrote(), kind="text", content={"body": "Hello"})
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "META_GRAPH_URL": f"http://127.0.0.1:{closed_port()}",
    }

    outcome = outbox.deliver(message.pk)

    message.refresh_from_db()
    assert (outcome.status, message.send_state) == ("retrying", "retrying")


def test_retries_end_after_the_configured_attempts_as_a_refusal(cloud, queue, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "SEND_MAX_ATTEMPTS": 2}
    message = queue(lead_who_wrote(), kind="text", content={"body": "Hello"})
    cloud.queue("/messages", server_error(500), server_error(500))

    outcomes = [outbox.deliver(message.pk).status, outbox.deliver(message.pk).status]

    message.refresh_from_db()
    assert outcomes == ["retrying", "refused"]
    assert (message.status, message.send_state) == ("failed", "refused")
    assert "Gave up after 2 attempts" in message.error_words


def test_a_second_task_for_the_same_message_sends_nothing(cloud, queue):
    message = queue(lead_who_wrote(), kind="text", content={"body": "Hello"})

    outcomes = [outbox.deliver(message.pk).status, outbox.deliver(message.pk).status]

    assert outcomes == ["accepted", "skipped"]
    assert len(cloud.requests_to("/messages")) == 1


def test_a_timeout_after_the_send_is_delivery_unknown_resolved_by_the_status_and_never_resent(
    cloud, queue, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "SEND_TIMEOUT_SECONDS": (2.0, 0.3)}
    message = queue(lead_who_wrote(), kind="text", content={"body": "Hello"})
    cloud.queue("/messages", Reply(delay=1.0, accept=True))  # Meta takes it; the answer comes too late

    outcome = outbox.deliver(message.pk)
    again = outbox.deliver(message.pk)

    message.refresh_from_db()
    assert (outcome.status, again.status) == ("unknown", "skipped")
    assert (message.send_state, message.status) == ("unknown", "pending")
    assert "cannot tell whether the message went out" in message.error_words
    assert message.wamid.startswith("outbox:")
    (accepted,) = cloud.sent
    assert accepted.json["biz_opaque_callback_data"] == f"wl-outbox:{message.pk}"

    wamid = "wamid.FAKE00000001"
    payload = status_update(wamid, "delivered")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = (
        f"wl-outbox:{message.pk}"
    )
    with heard(message_sent) as sent, django_capture_on_commit_callbacks(execute=True):
        deliver_webhook(payload)

    message.refresh_from_db()
    assert (message.wamid, message.status, message.send_state) == (wamid, "delivered", "accepted")
    assert StatusUpdate.objects.get(wamid=wamid).applied
    assert len(sent) == 1
    assert outbox.deliver(message.pk).status == "skipped"
    assert len(cloud.sent) == 1


def test_a_message_of_unknown_delivery_can_be_resent_by_a_person(cloud, queue, settings, rep):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "SEND_TIMEOUT_SECONDS": (2.0, 0.3)}
    message = queue(lead_who_wrote(), kind="text", content={"body": "Hello"})
    cloud.queue("/messages", Reply(delay=1.0, accept=True))
    outbox.deliver(message.pk)
    message.refresh_from_db()

    again = outbox.resend(message, by=rep)
    outbox.deliver(again.pk)

    again.refresh_from_db()
    assert (again.send_state, again.sent_by, again.text) == ("accepted", rep, "Hello")
    assert len(cloud.sent) == 2


def test_a_reply_to_a_click_to_whatsapp_ad_records_the_72_hour_free_entry_point(cloud, send):
    lead = lead_who_wrote(referral={"source_type": "ad", "source_id": "120226305854810726"})

    message = send(lead, kind="text", content={"body": "Thanks for writing!"})

    conversation = message.conversation
    conversation.refresh_from_db()
    hours = (conversation.free_entry_point_expires_at - message.timestamp).total_seconds() / 3600
    assert 71.9 < hours <= 72.01


def test_a_boosted_post_opens_no_free_entry_point(cloud, send):
    lead = lead_who_wrote(referral={"source_type": "post", "source_id": "1234"})

    message = send(lead, kind="text", content={"body": "Thanks!"})

    message.conversation.refresh_from_db()
    assert message.conversation.free_entry_point_expires_at is None


def test_a_status_that_resolved_the_message_first_wins_over_a_lost_answer(cloud, queue):
    from whatsapp_leads.providers.base import SendOutcome, SendResult

    message = queue(lead_who_wrote(), kind="text", content={"body": "Hello"})
    Message.objects.filter(pk=message.pk).update(send_state="sending")
    payload = status_update("wamid.EARLY1", "sent")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = (
        f"wl-outbox:{message.pk}"
    )
    deliver_webhook(payload)  # the status beats the (lost) answer

    outcome = outbox.record_result(message.pk, SendResult(outcome=SendOutcome.AMBIGUOUS, words="lost"))

    message.refresh_from_db()
    assert outcome.status == "resolved"
    assert (message.wamid, message.send_state, message.status) == ("wamid.EARLY1", "accepted", "sent")


def test_the_sweep_requeues_lost_publishes_and_marks_sends_a_dead_worker_held_as_unknown(
    cloud, queue, broker
):
    from datetime import timedelta

    from django.utils import timezone

    lead = lead_who_wrote()
    lost = queue(lead, kind="text", content={"body": "Lost publish"})
    held = queue(lead, kind="text", content={"body": "Worker died"})
    fresh = queue(lead, kind="text", content={"body": "Just queued"})
    broker()
    long_ago = timezone.now() - timedelta(minutes=10)
    Message.objects.filter(pk=lost.pk).update(send_updated_at=long_ago)
    Message.objects.filter(pk=held.pk).update(send_state="sending", send_updated_at=long_ago)

    report = outbox.sweep()

    assert report == {"requeued": 1, "unknown": 1}
    assert broker() == [(SEND_MESSAGE, (lost.pk,))]
    held.refresh_from_db()
    assert held.send_state == "unknown" and "interrupted" in held.error_words
    fresh.refresh_from_db()
    assert fresh.send_state == "queued"


def test_the_campaign_numbers_page_counts_free_entry_points(cloud, send, superuser):
    from django.urls import reverse

    from tests.support.factories import CampaignFactory
    from tests.support.people import logged_in

    campaign = CampaignFactory(name="Home loans")
    lead = lead_who_wrote(referral={"source_type": "ad", "source_id": "1202"}, campaign=campaign)
    send(lead, kind="text", content={"body": "Thanks!"})
    lead_who_wrote(referral={"source_type": "ad", "source_id": "1202"}, campaign=campaign)  # never answered

    page = logged_in(superuser).get(reverse("admin:whatsapp_leads_campaign_numbers", args=[campaign.pk]))

    assert "<strong>1</strong>free entry points (1 open now)" in page.content.decode()


def test_a_stored_message_that_cannot_be_built_fails_without_any_http_call(cloud, queue):
    message = queue(lead_who_wrote(), kind="image", content={"link": "https://example.com/a.jpg"})
    Message.objects.filter(pk=message.pk).update(content={"kind": "image"})  # e.g. edited by hand

    outcome = outbox.deliver(message.pk)

    message.refresh_from_db()
    assert (outcome.status, message.status) == ("refused", "failed")
    assert message.error_words == "This message is incomplete and could not be sent."
    assert cloud.requests_to("/messages") == []
