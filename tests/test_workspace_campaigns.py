"""Campaigns without members are flagged; a rep sees only campaigns they belong to, through their own leads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.factories import CampaignFactory, CampaignMemberFactory, LeadFactory
from tests.support.people import logged_in, staff
from whatsapp_leads.services.assignment import choose_owner

pytestmark = pytest.mark.django_db

REP_PERMS = ("view_lead", "change_lead", "view_campaign")


def test_a_campaign_without_members_says_no_members_yet_in_the_assignment_reason():
    campaign = CampaignFactory(name="Auto: ad 1209")
    decision = choose_owner(LeadFactory(campaign=campaign))
    assert "has no members yet" in decision.reason
    assert "paused or at the daily cap" not in decision.reason


def test_a_campaign_whose_members_are_all_at_their_cap_keeps_the_cap_reason(rep):
    campaign = CampaignFactory()
    CampaignMemberFactory(campaign=campaign, user=rep, daily_cap=0)
    reason = choose_owner(LeadFactory(campaign=campaign)).reason
    assert "paused or at the daily cap" in reason and "no members yet" not in reason


def test_the_campaign_list_flags_campaigns_needing_a_team():
    CampaignFactory(name="Needs people")
    admin_user = staff("view_campaign", "change_campaign", "view_all_leads", "view_lead")
    html = logged_in(admin_user).get(reverse("admin:whatsapp_leads_campaign_changelist")).content.decode()
    assert "0: needs a team" in html


def test_a_rep_sees_only_campaigns_they_belong_to_and_only_their_own_numbers():
    rep = staff(*REP_PERMS, username="asha_r", first_name="Asha", last_name="Rao")
    other = staff(*REP_PERMS, username="vikram_r", first_name="Vikram", last_name="Shah")
    theirs = CampaignFactory(name="Home loans")
    CampaignMemberFactory(campaign=theirs, user=rep)
    CampaignMemberFactory(campaign=theirs, user=other)
    elsewhere = CampaignFactory(name="Car loans")
    for _ in range(2):
        LeadFactory(campaign=theirs, owner=rep, status="won")
    for _ in range(5):
        LeadFactory(campaign=theirs, owner=other)
    client = logged_in(rep)

    listing = client.get(reverse("admin:whatsapp_leads_campaign_changelist")).content.decode()
    numbers = client.get(reverse("admin:whatsapp_leads_campaign_numbers", args=[theirs.pk]))
    hidden = client.get(reverse("admin:whatsapp_leads_campaign_numbers", args=[elsewhere.pk]))

    assert "Home loans" in listing and "Car loans" not in listing
    page = numbers.content.decode()
    assert numbers.context["numbers"].total == 2  # the 5 leads of the other rep are not counted
    assert [r.name for r in numbers.context["numbers"].per_rep] == ["Asha Rao"]
    assert "Vikram" not in page
    assert hidden.status_code == 404
