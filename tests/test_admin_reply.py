"""The reply box on a lead's admin page, as a sales rep uses it, and the template admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.fake_graph import Reply
from tests.support.outbound import approved_template, lead_who_wrote
from tests.support.people import logged_in
from whatsapp_leads.models import Message
from whatsapp_leads.queueing import MARK_READ, SEND_MESSAGE
from whatsapp_leads.services.outbound import outbox, read_receipts

pytestmark = pytest.mark.django_db


def change_url(lead) -> str:
    return reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])


def send_url(lead) -> str:
    return reverse("admin:whatsapp_leads_lead_send", args=[lead.pk])


def test_inside_the_window_the_rep_types_a_reply_and_presses_send(
    rep, broker, django_capture_on_commit_callbacks
):
    lead = lead_who_wrote(owner=rep)
    client = logged_in(rep)

    page = client.get(change_url(lead)).content.decode()
    assert '<label for="wl-reply-text">Reply</label>' in page
    assert 'name="reply"' in page and ">Send</button>" in page
    assert "You can reply freely for 22 h" in page or "You can reply freely for 23 h" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url(lead), {"reply": "Hi! When may I call?"}, follow=True)

    message = Message.objects.get(direction="outbound")
    assert (message.text, message.sent_by, message.origin, message.send_state) == (
        "Hi! When may I call?", rep, "rep", "queued")  # fmt: skip
    assert broker() == [(SEND_MESSAGE, (message.pk,))]
    page = response.content.decode()
    assert "Queued for WhatsApp" in page
    assert "Us (Asha Verma)" in page  # who sent it
    assert "🕓" in page


def test_outside_the_window_the_box_says_so_and_offers_approved_templates_only(rep, broker):
    approved_template("emi_reminder", body="Hi {{1}}, your EMI of {{2}} is due.")
    approved_template("draft_offer", status="PENDING")
    lead = lead_who_wrote(owner=rep, hours_ago=30)

    page = logged_in(rep).get(change_url(lead)).content.decode()

    assert "More than 24 hours have passed since the customer last wrote" in page
    assert 'name="reply"' not in page
    assert "<summary>Template</summary>" in page
    assert "emi_reminder (en_US, utility)" in page
    assert "draft_offer" not in page


def test_a_reply_posted_after_the_window_closed_is_refused_in_words_and_not_stored(rep, broker):
    lead = lead_who_wrote(owner=rep, hours_ago=30)

    response = logged_in(rep).post(send_url(lead), {"reply": "Hello?"}, follow=True)

    assert "only an approved template can be sent" in response.content.decode()
    assert not Message.objects.filter(direction="outbound").exists()


def test_the_template_picker_sends_the_template_with_its_values(
    rep, broker, django_capture_on_commit_callbacks
):
    template = approved_template("emi_reminder", body="Hi {{1}}, your EMI of {{2}} is due.")
    lead = lead_who_wrote(owner=rep, hours_ago=30)

    with django_capture_on_commit_callbacks(execute=True):
        logged_in(rep).post(send_url(lead), {"template": template.pk, "values": "Asha\n₹12,400\n"})

    message = Message.objects.get(direction="outbound")
    assert message.text == "[template emi_reminder] Hi Asha, your EMI of ₹12,400 is due."
    assert message.content["components"] == [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "₹12,400"}],
        }
    ]


def test_another_reps_lead_cannot_be_sent_to(rep, other_rep, broker):
    lead = lead_who_wrote(owner=other_rep)

    response = logged_in(rep).post(send_url(lead), {"reply": "Hi"})

    assert response.status_code == 404
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_failure_shows_in_words_and_unknown_delivery_offers_send_again(
    cloud, rep, settings, broker, django_capture_on_commit_callbacks
):
    from tests.support.fake_graph import meta_send_error

    lead = lead_who_wrote(owner=rep)
    failed = outbox.queue_send(lead, kind="text", content={"body": "First"}, by=rep)
    cloud.queue("/messages", meta_send_error(131026))
    outbox.deliver(failed.pk)
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "SEND_TIMEOUT_SECONDS": (2.0, 0.3)}
    lost = outbox.queue_send(lead, kind="text", content={"body": "Second"}, by=rep)
    cloud.queue("/messages", Reply(delay=1.0, accept=True))
    outbox.deliver(lost.pk)
    client = logged_in(rep)

    page = client.get(change_url(lead)).content.decode()

    assert "This number cannot receive WhatsApp messages" in page
    assert "Delivery unknown" in page
    assert "cannot tell whether the message went out" in page
    resend = reverse("admin:whatsapp_leads_lead_resend", args=[lead.pk, lost.pk])
    assert f'action="{resend}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend)
    assert Message.objects.filter(direction="outbound", text="Second").count() == 2


def test_opening_a_lead_marks_its_messages_read_only_when_configured(rep, broker, settings, cloud):
    lead = lead_who_wrote(owner=rep)
    logged_in(rep).get(change_url(lead))
    assert broker() == []

    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "MARK_READ_ON_OPEN": True}
    logged_in(rep).get(change_url(lead))
    assert broker() == [(MARK_READ, (lead.pk,))]

    assert read_receipts.mark_latest_read(lead.pk) == 1
    (seen,) = cloud.requests_to("/messages")
    latest = Message.objects.get(conversation__lead=lead, direction="inbound")
    assert seen.json == {"messaging_product": "whatsapp", "status": "read", "message_id": latest.wamid}


def test_the_template_admin_shows_each_blank_with_a_live_preview(superuser):
    template = approved_template("emi_reminder", body="Hi {{1}}, your EMI of {{2}} is due.")

    page = (
        logged_in(superuser)
        .get(reverse("admin:whatsapp_leads_messagetemplate_change", args=[template.pk]))
        .content.decode()
    )

    assert page.count('class="wl-tpl-param"') == 2
    assert 'data-name="1"' in page and 'data-name="2"' in page
    assert 'id="wl-tpl-preview"' in page
    assert '"Hi {{1}}, your EMI of {{2}} is due."' in page
