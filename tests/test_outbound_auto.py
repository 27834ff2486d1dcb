"""What sends (or records) by itself: a campaign's greeting, echoes from the WhatsApp Business app,
and the answer to a request for contact info."""

from __future__ import annotations

import time

import pytest

from tests.support.delivery import deliver
from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory, LeadFactory
from tests.support.outbound import approved_template, lead_who_wrote
from whatsapp_leads.models import AccountEvent, Lead, LeadHistory, Message
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    contact,
    envelope,
    inbound,
    messages_value,
    text_message,
    wamid,
)
from whatsapp_leads.queueing import SEND_MESSAGE

pytestmark = pytest.mark.django_db
AD_ID = "120226305854810726"


def ad_campaign(**fields):
    campaign = CampaignFactory(name="Home loans", **fields)
    CampaignMemberFactory(campaign=campaign)
    AdFactory(meta_id=AD_ID, campaign=campaign)
    return campaign


def test_a_new_ad_lead_is_greeted_once_with_the_campaigns_welcome_text(
    broker, django_capture_on_commit_callbacks
):
    ad_campaign(welcome_text="Thanks for writing to Bharat Home Loans! A rep will call you shortly.")

    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbound(wa_id="919811111111", ad_id=AD_ID, text="Interested"))
        deliver(inbound(wa_id="919811111111", ad_id=AD_ID, text="Hello?"))

    (greeting,) = Message.objects.filter(direction="outbound")
    assert (greeting.origin, greeting.text, greeting.sent_by) == (
        "greeting", "Thanks for writing to Bharat Home Loans! A rep will call you shortly.", None)  # fmt: skip
    assert [name for name, _ in broker()] == [SEND_MESSAGE]


def test_the_welcome_template_wins_and_carries_the_leads_name(broker, django_capture_on_commit_callbacks):
    template = approved_template("welcome", body="Namaste {{1}}, thanks for your interest!")
    ad_campaign(welcome_text="plain", welcome_template=template)

    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbound(wa_id="919822222222", name="Ravi Kumar", ad_id=AD_ID))

    greeting = Message.objects.get(direction="outbound")
    assert greeting.text == "[template welcome] Namaste Ravi Kumar, thanks for your interest!"
    assert greeting.content["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ravi Kumar"}]}
    ]


def test_a_campaign_without_a_welcome_sends_nothing(broker, django_capture_on_commit_callbacks):
    ad_campaign()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbound(wa_id="919833333333", ad_id=AD_ID))
    assert not Message.objects.filter(direction="outbound").exists()
    assert broker() == []


def test_an_opted_out_lead_is_never_greeted():
    from whatsapp_leads.services.outbound.greeting import greet_new_lead

    campaign = ad_campaign(welcome_text="Hello!")
    lead = lead_who_wrote(campaign=campaign, marketing_opt_out=True)

    assert greet_new_lead(lead) is None
    assert not Message.objects.filter(direction="outbound").exists()


# --- echoes --------------------------------------------------------------------------------------


def echo_payload(*, to: str, text: str, message_id: str, to_user_id: str = "") -> dict:
    echo = {"from": DISPLAY_NUMBER, "to": to, "id": message_id, "timestamp": str(int(time.time())),
            "type": "text", "text": {"body": text}}  # fmt: skip
    if to_user_id:
        echo["to_user_id"] = to_user_id
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
             "contacts": [contact(wa_id=to, name="Sheena")], "message_echoes": [echo]}  # fmt: skip
    return envelope(value, field="smb_message_echoes")


def test_an_echo_from_the_business_app_becomes_an_outbound_message_of_the_thread_once():
    deliver(inbound(wa_id="919844444444", text="Price?"))
    lead = Lead.objects.get(wa_id="919844444444")
    window_before = lead.conversations.get().last_inbound_at
    payload = echo_payload(to="919844444444", text="Here's the info you requested!", message_id="wamid.ECHO1")

    deliver(payload)
    deliver(payload)  # Meta redelivers

    (echo,) = Message.objects.filter(direction="outbound")
    assert (echo.wamid, echo.text, echo.origin, echo.status, echo.send_state) == (
        "wamid.ECHO1", "Here's the info you requested!", "echo", "sent", "")  # fmt: skip
    conversation = lead.conversations.get()
    assert conversation.message_count == 2
    assert conversation.last_inbound_at == window_before  # an echo never extends the window
    assert not AccountEvent.objects.filter(field="smb_message_echoes").exists()


def test_an_echo_to_someone_without_a_lead_stays_an_account_event():
    deliver(echo_payload(to="919855555555", text="Hi", message_id="wamid.ECHO2"))

    assert not Message.objects.exists()
    assert not Lead.objects.exists()
    assert AccountEvent.objects.get(field="smb_message_echoes").summary.endswith("who has no lead")


# --- the answer to request_contact_info ----------------------------------------------------------


def shared_contact(*, user_id: str, phone: str, origin: str = "contact_request") -> dict:
    message = text_message(wa_id="", user_id=user_id, message_id=wamid())
    message.pop("text")
    message["type"] = "contacts"
    message["contacts"] = [{"name": {"formatted_name": "Asha Verma"}, "phones": [{"phone": phone, "type": "CELL"}],
                            "origin": origin}]  # fmt: skip
    return envelope(messages_value([message], [contact(wa_id="", user_id=user_id)]))


def test_a_contact_shared_in_answer_to_our_request_fills_the_leads_phone():
    lead = LeadFactory(wa_id=None, phone="", user_id="IN.9912345678901")

    deliver(shared_contact(user_id="IN.9912345678901", phone="+91 98123 45678"))

    lead.refresh_from_db()
    assert lead.phone == "+919812345678"
    assert lead.history.filter(kind=LeadHistory.Kind.PHONE, current="+919812345678").exists()


def test_an_ordinary_shared_contact_is_not_taken_for_the_leads_phone():
    lead = LeadFactory(wa_id=None, phone="", user_id="IN.9912345678902")

    deliver(shared_contact(user_id="IN.9912345678902", phone="+91 98123 45679", origin="other"))

    lead.refresh_from_db()
    assert lead.phone == ""
