"""End to end with a real Celery worker: an ad lead marked Won with a value becomes exactly one
Purchase event at the (fake) Conversions API, carrying that value and the lead's ctwa_clid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from tests.support.procs import wait_for
from tests.support.world import AD_ID, campaign_with_team
from whatsapp_leads.models import ConversionEvent, Lead, WebhookEvent
from whatsapp_leads.providers.meta.simulation import WABA_ID, inbound, referral

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

DATASET = "1468235527318620"
TIMEOUT = 30.0


def test_an_ad_lead_marked_won_sends_one_purchase_with_its_value_through_the_real_worker(
    workers, post_webhook, fake_graph
):
    fake_graph.add_dataset(WABA_ID, DATASET)
    campaign_with_team("Home loans")
    workers.start(
        concurrency=2,
        env={
            "META_GRAPH_URL": fake_graph.base_url,
            "META_GRAPH_VERSION": fake_graph.version,
            "META_ACCESS_TOKEN": fake_graph.token,
        },
    )

    assert post_webhook(inbound(wa_id="919812345678", ad_id=AD_ID)).status_code == 200
    wait_for(
        lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).exists(),
        timeout=TIMEOUT,
        what="the worker to process the ad click",
    )
    lead = Lead.objects.get()
    with transaction.atomic():  # as the admin and the API save it
        lead.status, lead.deal_value, lead.deal_currency = Lead.Status.WON, Decimal("125000.50"), "INR"
        lead.save()

    def purchases() -> list[dict]:
        return [e for e in fake_graph.events_at(DATASET) if e["event_name"] == "Purchase"]

    wait_for(
        lambda: purchases(), timeout=TIMEOUT, what="the Purchase event to reach the fake Conversions API"
    )
    wait_for(
        lambda: ConversionEvent.objects.filter(status=ConversionEvent.Status.SENT).count() == 2,
        timeout=TIMEOUT,
        what="both events to be recorded as sent",
    )
    [purchase] = purchases()
    assert purchase["custom_data"] == {"currency": "INR", "value": 125000.5}
    assert purchase["user_data"] == {
        "whatsapp_business_account_id": WABA_ID,
        "ctwa_clid": referral()["ctwa_clid"],
    }
    assert purchase["action_source"] == "business_messaging"
    assert sorted(e["event_name"] for e in fake_graph.events_at(DATASET)) == ["LeadSubmitted", "Purchase"]
    row = ConversionEvent.objects.get(event_name="Purchase")
    assert row.events_received == 1 and row.fbtrace_id
