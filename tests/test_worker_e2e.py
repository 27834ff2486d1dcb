"""End to end with real processes: signed POST -> view -> Redis -> a Celery worker subprocess -> PostgreSQL.

The view publishes on commit through the test process's Celery app, pointed at a real Redis
database; a real ``celery -A bharatcrm worker`` consumes from it and writes to the test
database. Nothing between the HTTP request and the lead row is stubbed.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.procs import wait_for
from tests.support.world import AD_ID, campaign_with_team
from whatsapp_leads.models import Lead, LeadAssignment, Message, WebhookEvent
from whatsapp_leads.providers.meta.simulation import inbound

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 30.0


@pytest.fixture
def campaign():
    """A campaign with three active reps and the ad the payloads come from."""
    return campaign_with_team("Home loans Q3")


def _processed(count: int):
    return lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() >= count


def test_signed_ad_click_becomes_an_owned_lead_through_the_real_worker(workers, post_webhook, campaign):
    workers.start(concurrency=1)
    reps = [m.user for m in campaign.members.order_by("id")]

    response = post_webhook(inbound(wa_id="919812345678", name="Asha Verma", ad_id=AD_ID))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    wait_for(_processed(1), timeout=TIMEOUT, what="the worker to process the webhook event")
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    lead = Lead.objects.select_related("ad", "campaign", "owner").get()
    assert lead.phone == "+919812345678"
    assert lead.name == "Asha Verma"
    assert lead.ad.meta_id == AD_ID
    assert lead.campaign == campaign
    assert lead.owner == reps[0]  # first turn of the round robin
    assignment = LeadAssignment.objects.get(lead=lead)
    assert (assignment.owner, assignment.campaign) == (reps[0], campaign)
    assert Message.objects.get().conversation.lead == lead


def test_fifty_users_posted_at_once_all_become_leads_shared_by_the_reps(workers, post_webhook, campaign):
    users = 50
    workers.start(concurrency=2)

    for n in range(users):
        response = post_webhook(inbound(wa_id=f"9198100{n:05d}", name=f"Buyer {n}", ad_id=AD_ID))
        assert response.status_code == 200

    wait_for(_processed(users), timeout=TIMEOUT, what=f"the worker to process {users} events")
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()
    leads = Lead.objects.all()
    assert leads.count() == users
    assert {lead.wa_id for lead in leads} == {f"9198100{n:05d}" for n in range(users)}
    assert not leads.filter(campaign__isnull=True).exists()
    assert not leads.filter(owner__isnull=True).exists()
    assert Message.objects.count() == users
    per_rep = Counter(leads.values_list("owner", flat=True))
    assert sorted(per_rep.values()) == [16, 17, 17]
