"""Twilio with real processes: signed webhook -> Redis -> Celery worker -> lead; API reply -> fake Twilio; callback.

The workers run the host project's settings and learn Twilio's settings from the environment, as
a deployment does (bharatcrm enables Twilio when TWILIO_AUTH_TOKEN is set).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory
from tests.support.fake_twilio import AUTH_TOKEN, OUR_NUMBER, FakeTwilio, point_settings_at
from tests.support.people import logged_in
from tests.support.procs import wait_for
from tests.support.world import AD_ID
from whatsapp_leads.models import Lead, Message, WebhookEvent
from whatsapp_leads.providers.twilio.simulation import inbound, signed, status_callback

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 30.0
URL = "/whatsapp/webhook/twilio/"


@pytest.fixture
def fake(settings):
    server = FakeTwilio()
    with server.serve():
        point_settings_at(settings, server, SEND_RATE_BACKEND="")
        yield server


def worker_env(fake: FakeTwilio) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.token,
        "TWILIO_API_URL": fake.base_url,
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{OUR_NUMBER}",
    }


def post_signed(client, params: dict[str, str]):
    body, signature = signed(params, url=f"http://testserver{URL}", token=AUTH_TOKEN)
    return client.generic("POST", URL, body, content_type="application/x-www-form-urlencoded",
                          HTTP_X_TWILIO_SIGNATURE=signature)  # fmt: skip


def test_a_twilio_ctwa_message_becomes_an_assigned_lead_whose_reply_reaches_twilio_and_is_delivered(
    workers, fake, client, rep
):
    workers.start(concurrency=1, env=worker_env(fake))
    campaign = CampaignFactory(name="Home loans")
    CampaignMemberFactory(campaign=campaign, user=rep)
    AdFactory(meta_id=AD_ID, campaign=campaign)

    assert post_signed(client, inbound(phone="+919876543210", name="Asha", ad_id=AD_ID)).status_code == 200
    lead = wait_for(lambda: Lead.objects.filter(owner=rep).first(), timeout=TIMEOUT,
                    what="the worker to turn the Twilio message into an assigned lead")  # fmt: skip
    assert (lead.campaign, lead.source_ad_id, lead.phone) == (campaign, AD_ID, "+919876543210")
    assert lead.conversations.get().provider == "twilio"

    response = logged_in(rep).post(reverse("whatsapp_leads:lead-messages", args=[lead.pk]),
                                   {"text": "Hi Asha, calling you at 5?"}, content_type="application/json")  # fmt: skip
    assert response.status_code == 202, response.content
    accepted = wait_for(
        lambda: Message.objects.filter(pk=response.json()["id"], send_state="accepted").first(),
        timeout=TIMEOUT, what="the worker to send the reply through Twilio",
    )  # fmt: skip
    (form,) = fake.sends()
    assert (form["To"], form["From"], form["Body"]) == (
        "whatsapp:+919876543210", f"whatsapp:{OUR_NUMBER}", "Hi Asha, calling you at 5?")  # fmt: skip
    assert accepted.wamid.startswith("SM")

    assert post_signed(client, status_callback(accepted.wamid, "delivered")).status_code == 200
    wait_for(lambda: Message.objects.filter(pk=accepted.pk, status="delivered").exists(), timeout=TIMEOUT,
             what="the worker to apply Twilio's delivered callback")  # fmt: skip
    assert WebhookEvent.objects.filter(provider="twilio", status="processed").count() == 2
