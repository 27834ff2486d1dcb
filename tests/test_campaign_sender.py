"""A campaign's provider and business number: validated in words, and used when we start a conversation.

A template to a lead who never wrote goes through the lead's campaign's provider and number (the
fake Twilio at the HTTP boundary shows what was sent from where), else the default provider.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.factories import CampaignFactory, LeadFactory
from tests.support.fake_twilio import OUR_NUMBER, FakeTwilio, point_settings_at
from tests.support.outbound import approved_template
from whatsapp_leads.models import Campaign, Message
from whatsapp_leads.services.outbound import outbox
from whatsapp_leads.services.outbound.sender import starting_business

CAMPAIGN_NUMBER = "+14155238886"
HX = "HX" + "b" * 32


@pytest.fixture
def fake(settings):
    server = FakeTwilio()
    with server.serve():
        point_settings_at(settings, server, PHONE_NUMBER_ID="106540352242922",
                          TWILIO_CONTENT_SIDS={"loan_offer": HX})  # fmt: skip
        yield server


def template_to(lead) -> Message:
    approved_template("loan_offer", language="en_US")
    queued = outbox.queue_send(lead, kind="template", content={"name": "loan_offer", "language": "en_US",
                                                               "parameters": ["Asha", "8.4%"]})  # fmt: skip
    assert isinstance(queued, Message), queued
    return queued


@pytest.mark.django_db
def test_a_template_to_a_lead_who_never_wrote_goes_from_the_campaigns_twilio_number(fake):
    campaign = CampaignFactory(provider="twilio", business_number=f"whatsapp:{CAMPAIGN_NUMBER}")
    lead = LeadFactory(campaign=campaign, phone="+919876543210")
    message = template_to(lead)
    assert (message.conversation.provider, message.conversation.phone_number_id) == (
        "twilio",
        CAMPAIGN_NUMBER,
    )

    outbox.deliver(message.pk)
    message.refresh_from_db()
    assert message.send_state == "accepted"
    (form,) = fake.sends()
    assert (form["From"], form["To"], form["ContentSid"]) == (
        f"whatsapp:{CAMPAIGN_NUMBER}", "whatsapp:+919876543210", HX)  # fmt: skip


@pytest.mark.django_db
def test_a_twilio_campaign_without_a_number_starts_from_twilios_default_sender(fake):
    lead = LeadFactory(campaign=CampaignFactory(provider="twilio"), phone="+919876543210")
    message = template_to(lead)
    assert (message.conversation.provider, message.conversation.phone_number_id) == ("twilio", OUR_NUMBER)
    outbox.deliver(message.pk)
    assert fake.sends()[0]["From"] == f"whatsapp:{OUR_NUMBER}"


@pytest.mark.django_db
def test_without_a_campaign_provider_a_new_conversation_is_the_default_providers(fake):
    for lead in (
        LeadFactory(phone="+919876543210"),
        LeadFactory(campaign=CampaignFactory(), phone="+919800000001"),
    ):
        business = starting_business(lead)
        assert (business.provider, business.phone_number_id) == ("meta", "106540352242922")
    meta_number = LeadFactory(campaign=CampaignFactory(provider="meta", business_number="109876543210987"))
    assert starting_business(meta_number).phone_number_id == "109876543210987"


@pytest.mark.django_db
def test_a_campaign_naming_a_provider_no_longer_enabled_falls_back_to_the_default(settings, caplog):
    lead = LeadFactory(campaign=CampaignFactory(provider="twilio", business_number=CAMPAIGN_NUMBER))
    business = starting_business(lead)  # Twilio is not in PROVIDERS here
    assert business.provider == "meta" and business.phone_number_id != CAMPAIGN_NUMBER
    assert "not enabled" in caplog.text


@pytest.mark.django_db
def test_a_number_saved_before_validation_that_is_not_the_providers_is_replaced_by_its_default(fake, caplog):
    lead = LeadFactory(campaign=CampaignFactory(provider="twilio", business_number="106540352242922x"))
    assert starting_business(lead).phone_number_id == OUR_NUMBER
    assert "not a twilio number" in caplog.text


@pytest.mark.django_db
def test_a_reply_still_goes_through_the_thread_the_customer_wrote_in(fake):
    from tests.support.factories import ConversationFactory

    campaign = CampaignFactory(provider="twilio", business_number=CAMPAIGN_NUMBER)
    lead = LeadFactory(campaign=campaign, phone="+919876543210")
    thread = ConversationFactory(lead=lead, provider="meta", phone_number_id="106540352242922")
    assert template_to(lead).conversation == thread


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("provider", "number", "field", "words"),
    [
        ("sms", "", "provider", "'sms' is not an enabled provider"),
        ("twilio", "+1 415 523", "business_number", "whatsapp:+<country code and number>"),
        ("twilio", "106540352242922x", "business_number", "whatsapp:+14155238886"),
        ("", "+14155238886", "business_number", "phone number id (digits"),
        ("meta", "whatsapp:+14155238886", "business_number", "not the phone number"),
    ],
)
def test_a_wrong_provider_or_number_is_refused_in_words(fake, provider, number, field, words):
    campaign = CampaignFactory.build(provider=provider, business_number=number)
    with pytest.raises(ValidationError) as refused:
        campaign.clean()
    assert words in " ".join(refused.value.message_dict[field])


@pytest.mark.django_db
@pytest.mark.parametrize(("provider", "number"), [("", ""), ("twilio", "whatsapp:+14155238886"),
                                                  ("twilio", "+14155238886"), ("meta", "106540352242922")])  # fmt: skip
def test_a_right_provider_and_number_pass(fake, provider, number):
    CampaignFactory.build(provider=provider, business_number=number).clean()


@pytest.mark.django_db
def test_the_campaign_admin_edits_them_and_says_what_is_wrong(fake, admin_user, client):
    campaign = CampaignFactory()
    client.force_login(admin_user)
    page = client.get(reverse("admin:whatsapp_leads_campaign_change", args=[campaign.pk])).content.decode()
    assert 'name="provider"' in page and 'name="business_number"' in page

    request = RequestFactory().post("/")
    request.user = admin_user
    admin = site._registry[Campaign]
    form_class = admin.get_form(request, campaign)
    data = {name: field.initial for name, field in form_class.base_fields.items()}
    data.update({"name": campaign.name, "routing_strategy": campaign.routing_strategy, "provider": "smss",
                 "business_number": "", "is_active": True})  # fmt: skip
    data = {k: v for k, v in data.items() if v is not None}
    form = form_class(data=data, instance=campaign)
    assert not form.is_valid()
    assert "not an enabled provider" in str(form.errors["provider"])

    data.update({"provider": "twilio", "business_number": "whatsapp:+14155238886"})
    form = form_class(data=data, instance=campaign)
    assert form.is_valid(), form.errors
    form.save()
    campaign.refresh_from_db()
    assert (campaign.provider, campaign.business_number) == ("twilio", "whatsapp:+14155238886")


@pytest.mark.django_db
def test_the_campaign_api_shows_them(fake, admin_user):
    campaign = CampaignFactory(provider="twilio", business_number="whatsapp:+14155238886")
    client = APIClient()
    client.force_authenticate(admin_user)
    body = client.get(f"/whatsapp/api/campaigns/{campaign.pk}/").json()
    assert (body["provider"], body["business_number"]) == ("twilio", "whatsapp:+14155238886")


def test_a_thread_without_a_number_sends_from_its_providers_default(fake):
    from whatsapp_leads.services.outbound.sender import sender_of

    assert sender_of("twilio", "") == OUR_NUMBER
    assert sender_of("", "") == "106540352242922"  # an old thread without a provider: Meta's
    assert sender_of("meta", "109876543210987") == "109876543210987"
    assert sender_of("gone", "") == ""  # a provider no longer enabled has no default number
