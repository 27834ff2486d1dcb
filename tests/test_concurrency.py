"""Processing in parallel processes: round-robin turns are never shared, copies never make twins.

These are the races a single-process test cannot show: several OS processes, each with its own
PostgreSQL connection, writing the same campaign cursor or the same lead at the same moment.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.factories import WebhookEventFactory
from tests.support.procs import Racers, database_url, wait_for
from tests.support.world import AD_ID, campaign_with_team
from whatsapp_leads.models import Conversation, Lead, LeadAssignment, Message, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.queueing import PROCESS_EVENT, publish

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign():
    """A campaign with three active reps and the ad the payloads come from."""
    return campaign_with_team("Gold loans")


def _store(payload: dict) -> WebhookEvent:
    """Store an event as the view would (raw bytes, pending), without queuing it."""
    return WebhookEventFactory(body=dumps(payload))


@pytest.mark.redis
def test_four_worker_processes_share_sixty_ad_leads_evenly_with_one_owner_each(workers, campaign):
    leads, reps = 60, 3
    events = [_store(inbound(wa_id=f"9198200{n:05d}", name=f"Buyer {n}", ad_id=AD_ID)) for n in range(leads)]
    # Queue everything before the worker starts, so its four processes compete from the first task.
    assert all(publish(PROCESS_EVENT, event.pk) for event in events)

    workers.start(concurrency=4, pool="prefork")
    wait_for(
        lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == leads,
        timeout=45,
        what=f"{leads} events processed",
    )

    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()
    assert Lead.objects.count() == leads
    assert not Lead.objects.filter(owner__isnull=True).exists()
    per_lead = Counter(LeadAssignment.objects.values_list("lead_id", flat=True))
    assert len(per_lead) == leads and set(per_lead.values()) == {1}
    for assignment in LeadAssignment.objects.select_related("lead"):
        assert assignment.owner_id == assignment.lead.owner_id
    per_rep = Counter(Lead.objects.values_list("owner_id", flat=True))
    member_ids = set(campaign.members.values_list("user_id", flat=True))
    assert set(per_rep) == member_ids
    assert set(per_rep.values()) <= {leads // reps, -(-leads // reps)}


def test_three_copies_processed_at_the_same_moment_make_one_lead_one_message_one_assignment(campaign):
    payload = inbound(wa_id="919830000001", name="Ravi Kumar", ad_id=AD_ID)
    copies = [_store(payload) for _ in range(3)]
    racers = Racers(database_url=database_url())
    for event in copies:
        racers.spawn([event.pk])
    racers.spawn([copies[0].pk])  # and the same event twice at once, as a redelivered task would

    outcomes = racers.release()

    assert len(outcomes) == 4
    assert set(outcomes) <= {"processed", "skipped"}, outcomes
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()
    lead = Lead.objects.get()
    assert lead.wa_id == "919830000001"
    assert lead.campaign == campaign
    assert Message.objects.count() == 1
    assert LeadAssignment.objects.get().lead == lead
    conversation = Conversation.objects.get()
    assert (conversation.message_count, conversation.inbound_count) == (1, 1)
