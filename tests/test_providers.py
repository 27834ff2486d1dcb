"""The provider seam: every provider's webhook keeps the same security contract, and a provider that
exists only in this test suite goes through the same pipeline as Meta's, from settings alone."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.conftest import APP_SECRET
from tests.support.echo_provider import ECHO_NUMBER, PATH, echo_sign
from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory, WebhookEventFactory
from tests.support.provider_security import ProviderSecurityCases
from tests.support.world import AD_ID
from whatsapp_leads.models import Lead, Message, WebhookEvent
from whatsapp_leads.providers.meta.signature import sign
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.providers.registry import UnknownProvider, all_providers, get_provider
from whatsapp_leads.services.processing import process_event

META = "whatsapp_leads.providers.meta.MetaProvider"


@pytest.fixture
def echo_enabled(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "PROVIDERS": [META, PATH]}


def echo_body(*messages: dict) -> bytes:
    return json.dumps({"echo": list(messages)}).encode()


def echo_message(**overrides) -> dict:
    return {
        "from": "919812345678",
        "name": "Ravi",
        "id": "echo-1",
        "text": "Price?",
        "at": 1749416383,
        **overrides,
    }


class TestMetaProviderSecurity(ProviderSecurityCases):
    provider = "meta"

    def valid_body(self) -> bytes:
        return dumps(inbound())

    def signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        return {"HTTP_X_HUB_SIGNATURE_256": sign(body, APP_SECRET)}

    def wrongly_signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        return {"HTTP_X_HUB_SIGNATURE_256": sign(body, "someone_elses_secret")}


@pytest.mark.usefixtures("echo_enabled")
class TestEchoProviderSecurity(ProviderSecurityCases):
    provider = "echo"

    def valid_body(self) -> bytes:
        return echo_body(echo_message())

    def signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        return {"HTTP_X_ECHO_SIGNATURE": echo_sign(body)}

    def wrongly_signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        return {"HTTP_X_ECHO_SIGNATURE": echo_sign(body, "wrong-secret")}


def test_the_default_providers_are_meta_alone():
    assert list(all_providers()) == ["meta"]


def test_a_provider_named_in_settings_is_registered(echo_enabled):
    assert list(all_providers()) == ["meta", "echo"]
    assert get_provider("echo").name == "echo"


def test_an_unknown_provider_name_is_refused():
    with pytest.raises(UnknownProvider, match="not in WHATSAPP_LEADS\\['PROVIDERS'\\]"):
        get_provider("twilio")


@pytest.mark.django_db
def test_the_legacy_webhook_url_is_metas(client):
    assert reverse("whatsapp_leads:webhook") == "/whatsapp/webhook/"
    body = dumps(inbound())
    response = client.generic(
        "POST",
        "/whatsapp/webhook/meta/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body, APP_SECRET),
    )
    assert response.status_code == 200
    assert WebhookEvent.objects.get().provider == "meta"


@pytest.mark.django_db
def test_a_provider_not_enabled_has_no_webhook(client):
    response = client.post("/whatsapp/webhook/echo/", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_echo_providers_message_becomes_an_attributed_assigned_lead_through_the_same_pipeline(
    client, echo_enabled, broker, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(name="Echo ads")
    member = CampaignMemberFactory(campaign=campaign)
    AdFactory(meta_id=AD_ID, campaign=campaign)
    body = echo_body(echo_message(ad={"id": AD_ID, "clid": "CLID-ECHO"}))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.generic(
            "POST",
            "/whatsapp/webhook/echo/",
            body,
            content_type="application/json",
            HTTP_X_ECHO_SIGNATURE=echo_sign(body),
        )
    assert response.status_code == 200
    ((task, (event_id,)),) = broker()
    assert task == "whatsapp_leads.process_webhook_event"

    assert process_event(event_id).status == "processed"
    lead = Lead.objects.get()
    assert (lead.wa_id, lead.phone, lead.name, lead.first_message) == (
        "919812345678",
        "+919812345678",
        "Ravi",
        "Price?",
    )
    assert (lead.campaign, lead.ctwa_clid, lead.owner) == (campaign, "CLID-ECHO", member.user)
    message = Message.objects.get()
    assert (message.wamid, message.conversation.provider, message.conversation.phone_number_id) == (
        "echo-1",
        "echo",
        ECHO_NUMBER,
    )


@pytest.mark.django_db
def test_echo_redelivery_is_a_no_op_like_metas(client, echo_enabled):
    body = echo_body(echo_message())
    for _ in range(2):
        client.generic(
            "POST",
            "/whatsapp/webhook/echo/",
            body,
            content_type="application/json",
            HTTP_X_ECHO_SIGNATURE=echo_sign(body),
        )
    for event in WebhookEvent.objects.all():
        assert process_event(event.pk).status == "processed"
    assert (Lead.objects.count(), Message.objects.count()) == (1, 1)


@pytest.mark.django_db
def test_one_bad_echo_message_fails_alone_with_its_reason(echo_enabled):
    event = WebhookEventFactory(
        provider="echo", body=echo_body(echo_message(), echo_message(id="", text="x"))
    )
    assert process_event(event.pk).status == "failed"
    event.refresh_from_db()
    assert "echo[1]: message has no id" in event.error
    assert Lead.objects.count() == 1


@pytest.mark.django_db
def test_an_event_of_a_provider_no_longer_enabled_fails_with_that_reason_and_is_not_retried():
    event = WebhookEventFactory(provider="twilio", body=b"Body=hi")
    outcome = process_event(event.pk)
    event.refresh_from_db()
    assert (outcome.status, outcome.retry_in, event.status) == ("failed", None, "failed")
    assert event.error == "unknown provider 'twilio': not in WHATSAPP_LEADS['PROVIDERS']"
    assert event.next_attempt_at is None
