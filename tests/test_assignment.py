"""Who gets a new lead: the campaign's round robin, its fallback, or the default owner; and only once."""

from __future__ import annotations

import pytest

from tests.support.delivery import deliver
from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory, UserFactory
from tests.support.world import AD_ID, T0
from whatsapp_leads.models import Campaign, Lead, LeadAssignment
from whatsapp_leads.providers.meta.simulation import inbound

pytestmark = pytest.mark.django_db


def new_lead_from_ad(n: int, *, ad_id: str = AD_ID) -> Lead:
    """A new user clicks the ad and writes; returns their lead."""
    wa_id = f"9198765{n:05d}"
    deliver(inbound(wa_id=wa_id, name=f"User {n}", ad_id=ad_id, timestamp=T0 + n))
    return Lead.objects.get(wa_id=wa_id)


def default_owner(settings, username: str = "sales-desk"):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DEFAULT_OWNER": username}


@pytest.fixture
def campaign() -> Campaign:
    campaign = CampaignFactory(name="Home loans Pune")
    AdFactory(meta_id=AD_ID, campaign=campaign)
    return campaign


def test_campaign_leads_go_round_robin_among_its_members(campaign):
    reps = [CampaignMemberFactory(campaign=campaign).user for _ in range(3)]
    owners = [new_lead_from_ad(n).owner for n in range(7)]
    assert owners == [reps[0], reps[1], reps[2], reps[0], reps[1], reps[2], reps[0]]


def test_inactive_member_is_skipped(campaign):
    anil = CampaignMemberFactory(campaign=campaign).user
    CampaignMemberFactory(campaign=campaign, is_active=False)
    bela = CampaignMemberFactory(campaign=campaign).user
    assert [new_lead_from_ad(n).owner for n in range(4)] == [anil, bela, anil, bela]


def test_member_whose_user_account_is_disabled_is_skipped(campaign):
    anil = CampaignMemberFactory(campaign=campaign).user
    CampaignMemberFactory(campaign=campaign, user=UserFactory(is_active=False))
    bela = CampaignMemberFactory(campaign=campaign).user
    assert [new_lead_from_ad(n).owner for n in range(4)] == [anil, bela, anil, bela]


def test_round_robin_cursor_is_stored_on_the_campaign_and_resumes_from_it(campaign):
    anil, bela, chitra = (CampaignMemberFactory(campaign=campaign) for _ in range(3))
    new_lead_from_ad(1)
    new_lead_from_ad(2)
    campaign.refresh_from_db()
    assert campaign.last_assigned_member == bela

    # Another process (or a restart) reads the cursor from the database, not from memory.
    Campaign.objects.filter(pk=campaign.pk).update(last_assigned_member=anil)
    assert new_lead_from_ad(3).owner == bela.user
    assert new_lead_from_ad(4).owner == chitra.user


def test_member_joining_mid_rotation_gets_a_turn(campaign):
    anil = CampaignMemberFactory(campaign=campaign).user
    bela = CampaignMemberFactory(campaign=campaign).user
    assert [new_lead_from_ad(n).owner for n in range(2)] == [anil, bela]
    chitra = CampaignMemberFactory(campaign=campaign).user
    assert [new_lead_from_ad(n).owner for n in range(2, 5)] == [chitra, anil, bela]


def test_lead_without_campaign_goes_to_the_default_owner(settings):
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    deliver(inbound())
    lead = Lead.objects.get()
    assert lead.owner == desk
    assignment = lead.assignments.get()
    assert (assignment.owner, assignment.campaign, assignment.previous_owner) == (desk, None, None)
    assert "default owner" in assignment.reason


def test_ad_without_known_campaign_goes_to_the_default_owner(settings):
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    deliver(inbound(ad_id="120226305854899999"))  # an ad we have never seen
    assert Lead.objects.get().owner == desk


def test_campaign_with_no_active_member_goes_to_its_fallback_owner(campaign, settings):
    manager = UserFactory(username="pune-manager")
    campaign.fallback_owner = manager
    campaign.save()
    CampaignMemberFactory(campaign=campaign, is_active=False)
    UserFactory(username="sales-desk")
    default_owner(settings)

    lead = new_lead_from_ad(1)

    assert lead.owner == manager
    assignment = lead.assignments.get()
    assert assignment.campaign == campaign
    assert "no active member" in assignment.reason


def test_campaign_with_no_active_member_and_no_fallback_goes_to_the_default_owner(campaign, settings):
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    lead = new_lead_from_ad(1)
    assert lead.owner == desk
    assert lead.assignments.get().campaign == campaign


def test_disabled_fallback_owner_does_not_collect_leads(campaign, settings):
    campaign.fallback_owner = UserFactory(username="left-the-company", is_active=False)
    campaign.save()
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    assert new_lead_from_ad(1).owner == desk


def test_inactive_campaign_still_attributes_but_routes_to_the_default_owner(campaign, settings):
    CampaignMemberFactory(campaign=campaign)
    campaign.is_active = False
    campaign.save()
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    lead = new_lead_from_ad(1)
    assert (lead.campaign, lead.owner) == (campaign, desk)


def test_unknown_default_owner_leaves_the_lead_unassigned_without_failing(settings):
    default_owner(settings, "nobody-by-this-name")
    deliver(inbound())
    lead = Lead.objects.get()
    assert lead.owner is None
    assignment = lead.assignments.get()
    assert assignment.owner is None
    assert assignment.reason


def test_disabled_default_owner_leaves_the_lead_unassigned(settings):
    UserFactory(username="sales-desk", is_active=False)
    default_owner(settings)
    deliver(inbound())
    assert Lead.objects.get().owner is None


def test_no_default_owner_configured_leaves_the_lead_unassigned():
    deliver(inbound())
    assert Lead.objects.get().owner is None


def test_later_messages_never_reassign_the_lead(campaign):
    anil = CampaignMemberFactory(campaign=campaign).user
    CampaignMemberFactory(campaign=campaign)
    lead = new_lead_from_ad(1)
    for n in range(3):
        deliver(inbound(wa_id=lead.wa_id, text=f"follow-up {n}", ad_id=AD_ID, timestamp=T0 + 100 + n))
    lead.refresh_from_db()
    assert lead.owner == anil
    assert LeadAssignment.objects.count() == 1


def test_assignment_row_records_owner_campaign_and_reason(campaign):
    member = CampaignMemberFactory(campaign=campaign)
    lead = new_lead_from_ad(1)
    assignment = LeadAssignment.objects.get()
    assert (assignment.lead, assignment.owner, assignment.campaign) == (lead, member.user, campaign)
    assert assignment.assigned_by is None
    assert "Round robin" in assignment.reason
    assert "Home loans Pune" in assignment.reason


def test_delayed_ad_message_gives_the_lead_its_campaign_and_routes_it_once(campaign, settings):
    """The organic follow-up was processed first and created the lead; the ad message was late."""
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    rep = CampaignMemberFactory(campaign=campaign).user
    CampaignMemberFactory(campaign=campaign)

    deliver(inbound(text="Is it still available?", timestamp=T0 + 60))
    lead = Lead.objects.get()
    assert (lead.owner, lead.campaign) == (desk, None)

    late_ad = inbound(text="Hi, I saw your ad", ad_id=AD_ID, timestamp=T0)
    deliver(late_ad)
    deliver(late_ad)  # and Meta's redelivery of it
    deliver(inbound(text="Hello?", ad_id=AD_ID, timestamp=T0 + 120))

    lead.refresh_from_db()
    assert (lead.campaign, lead.owner, lead.source_ad_id) == (campaign, rep, AD_ID)
    assert lead.first_message == "Hi, I saw your ad"
    reasons = list(lead.assignments.order_by("id").values_list("campaign", "owner", "reason"))
    assert len(reasons) == 2
    assert reasons[0][:2] == (None, desk.pk)
    assert reasons[1][:2] == (campaign.pk, rep.pk)
    assert "late" in reasons[1][2]


def test_ad_click_from_an_existing_lead_later_does_not_reroute_it(campaign, settings):
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    CampaignMemberFactory(campaign=campaign)
    deliver(inbound(text="Hi", timestamp=T0))
    deliver(inbound(text="Saw your ad now", ad_id=AD_ID, timestamp=T0 + 3600))
    lead = Lead.objects.get()
    assert lead.owner == desk
    assert lead.assignments.count() == 1


def test_late_ad_message_reroutes_a_keyword_claimed_lead_to_the_ads_campaign(campaign):
    """A keyword team claimed the chat from the follow-up; the real first touch was the ad."""
    loans_team = CampaignFactory(name="Keyword loans", keywords="loan")
    keyword_rep = CampaignMemberFactory(campaign=loans_team).user
    ad_rep = CampaignMemberFactory(campaign=campaign).user

    deliver(inbound(text="I need a loan", timestamp=T0 + 60))
    lead = Lead.objects.get()
    assert (lead.campaign, lead.owner) == (loans_team, keyword_rep)

    deliver(inbound(text="Hi, I saw your ad", ad_id=AD_ID, timestamp=T0))
    lead.refresh_from_db()
    assert (lead.campaign, lead.owner) == (campaign, ad_rep)


def test_late_ad_message_does_not_take_a_lead_someone_already_worked(campaign, settings):
    desk = UserFactory(username="sales-desk")
    default_owner(settings)
    CampaignMemberFactory(campaign=campaign)
    deliver(inbound(text="Is it still available?", timestamp=T0 + 60))
    Lead.objects.update(status=Lead.Status.CONTACTED)

    deliver(inbound(text="Hi, I saw your ad", ad_id=AD_ID, timestamp=T0))

    lead = Lead.objects.get()
    assert lead.campaign == campaign  # attribution still follows the true first touch
    assert lead.owner == desk
    assert lead.assignments.count() == 1
