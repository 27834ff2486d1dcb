"""Routing under real parallelism: several OS processes, each with its own PostgreSQL connection,
process ad-click leads of one campaign at the same moment.

The campaign row lock must make them take turns on every piece of routing state: the round-robin
cursor, the weighted state on the member rows, today's count against a daily cap and the open-lead
counts. A single-process test cannot show any of these races.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.factories import (
    AdFactory,
    CampaignFactory,
    CampaignMemberFactory,
    UserFactory,
    WebhookEventFactory,
)
from tests.support.procs import Racers, database_url
from tests.support.world import AD_ID
from whatsapp_leads.models import Campaign, Lead, LeadAssignment, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PROCESSES = 4


def campaign_with(strategy: str, *members: dict) -> tuple[Campaign, list]:
    campaign = CampaignFactory(name=f"Race {strategy}", routing_strategy=strategy)
    AdFactory(meta_id=AD_ID, campaign=campaign)
    users = []
    for n, fields in enumerate(members):
        user = UserFactory(username=f"racer-rep-{n}")
        CampaignMemberFactory(campaign=campaign, user=user, **fields)
        users.append(user)
    return campaign, users


def race(leads: int) -> None:
    """``leads`` new ad-click leads, dealt to PROCESSES processes that start at the same moment."""
    events = [
        WebhookEventFactory(body=dumps(inbound(wa_id=f"9198300{n:05d}", name=f"Buyer {n}", ad_id=AD_ID))).pk
        for n in range(leads)
    ]
    racers = Racers(database_url=database_url())
    for first in range(PROCESSES):
        racers.spawn(events[first::PROCESSES])

    outcomes = racers.release(timeout=90)

    assert outcomes == ["processed"] * leads
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()


def assert_each_lead_assigned_once(leads: int) -> None:
    assert Lead.objects.count() == leads
    per_lead = Counter(LeadAssignment.objects.values_list("lead_id", flat=True))
    assert len(per_lead) == leads and set(per_lead.values()) == {1}
    for record in LeadAssignment.objects.select_related("lead"):
        assert record.owner_id == record.lead.owner_id is not None


def leads_per_owner() -> Counter:
    return Counter(Lead.objects.values_list("owner_id", flat=True))


def test_round_robin_across_processes_gives_each_rep_n_over_k_rounded_down_or_up():
    leads = 41
    _, reps = campaign_with("round_robin", {}, {}, {})

    race(leads)

    assert_each_lead_assigned_once(leads)
    per_rep = leads_per_owner()
    assert set(per_rep) == {rep.pk for rep in reps}
    assert set(per_rep.values()) <= {leads // 3, -(-leads // 3)}


def test_weighted_split_across_processes_is_exact_over_full_cycles():
    cycles = 7
    campaign, (anil, bela, chitra) = campaign_with("weighted", {"weight": 3}, {"weight": 2}, {"weight": 1})

    race(6 * cycles)

    assert_each_lead_assigned_once(6 * cycles)
    assert leads_per_owner() == {anil.pk: 3 * cycles, bela.pk: 2 * cycles, chitra.pk: cycles}
    assert set(campaign.members.values_list("current_weight", flat=True)) == {0}


def test_least_loaded_across_processes_keeps_the_reps_level():
    _, reps = campaign_with("least_loaded", {}, {}, {})

    race(30)

    assert_each_lead_assigned_once(30)
    assert leads_per_owner() == {rep.pk: 10 for rep in reps}


def test_daily_cap_holds_when_processes_race_for_the_last_slots():
    _, (capped, free) = campaign_with("round_robin", {"daily_cap": 5}, {})

    race(24)

    assert_each_lead_assigned_once(24)
    assert leads_per_owner() == {capped.pk: 5, free.pk: 19}
