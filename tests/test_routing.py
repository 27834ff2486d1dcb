"""Routing rules a sales manager sets per campaign: who gets each new lead, when, and why.

The clock is passed in (``now=``): every rule is evaluated at a moment the test names, in the
business's time zone (Asia/Kolkata here, pinned by the ``business_day`` fixture).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory
import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.support.factories import (
    AdFactory,
    CampaignFactory,
    CampaignMemberFactory,
    LeadFactory,
    UserFactory,
    WebhookEventFactory,
)
from whatsapp_leads.models import Campaign, CampaignMember, Lead, LeadAssignment
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.services import assignment
from whatsapp_leads.services.processing import process_event
from whatsapp_leads.services.routing.hours import WorkingHours
from whatsapp_leads.signals import lead_assigned

IST = ZoneInfo("Asia/Kolkata")
MONDAY = date(2025, 6, 9)
UTC = ZoneInfo("UTC")
NO_PASSWORD = factory.Transformer.Force("!")


def at(day: date, hhmm: str, *, tz: ZoneInfo = IST) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm)).replace(tzinfo=tz)


def day(n: int) -> date:
    """MONDAY + n days (5 is Saturday)."""
    return MONDAY + timedelta(days=n)


@pytest.fixture(autouse=True)
def business_day(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Kolkata"}


def route(campaign: Campaign, *, now: datetime) -> Lead:
    """A new lead of ``campaign`` routed at ``now``."""
    lead = LeadFactory(campaign=campaign)
    with transaction.atomic():
        assignment.assign_new_lead(lead, now=now)
    lead.refresh_from_db()
    return lead


def owners(campaign: Campaign, count: int, *, now: datetime) -> list:
    return [route(campaign, now=now + timedelta(minutes=n)).owner for n in range(count)]


def member(campaign: Campaign, name: str, **fields) -> CampaignMember:
    return CampaignMemberFactory(campaign=campaign, user=UserFactory(username=name), **fields)


def latest_reason(lead: Lead) -> str:
    return lead.assignments.latest("created_at", "id").reason


# === Strategies =================================================================================


@pytest.mark.django_db
def test_fixed_rule_gives_every_lead_to_the_fixed_owner_and_ignores_members():
    priya = UserFactory(username="priya")
    campaign = CampaignFactory(name="VIP loans", routing_strategy="fixed", fixed_owner=priya)
    member(campaign, "anil")

    leads = [route(campaign, now=at(MONDAY, "10:00")) for _ in range(3)]

    assert [lead.owner for lead in leads] == [priya, priya, priya]
    assert latest_reason(leads[0]) == "Fixed owner of campaign 'VIP loans'"


@pytest.mark.django_db
def test_fixed_rule_with_a_disabled_fixed_owner_goes_to_the_fallback_owner():
    manager = UserFactory(username="manager")
    campaign = CampaignFactory(
        routing_strategy="fixed",
        fixed_owner=UserFactory(username="left", is_active=False),
        fallback_owner=manager,
    )

    lead = route(campaign, now=at(MONDAY, "10:00"))

    assert lead.owner == manager
    assert "fallback owner" in latest_reason(lead)


@pytest.mark.django_db
def test_fixed_rule_cannot_be_saved_without_a_fixed_owner():
    campaign = CampaignFactory.build(name="No one", routing_strategy="fixed")

    with pytest.raises(ValidationError) as error:
        campaign.full_clean()

    assert "fixed_owner" in error.value.message_dict


@pytest.mark.django_db
def test_weighted_rule_splits_every_cycle_exactly_by_weight_and_interleaves():
    campaign = CampaignFactory(name="Car loans", routing_strategy="weighted")
    anil = member(campaign, "anil", weight=3).user
    bela = member(campaign, "bela", weight=2).user
    chitra = member(campaign, "chitra", weight=1).user

    got = owners(campaign, 12, now=at(MONDAY, "10:00"))

    assert got[:6] == [anil, bela, anil, chitra, bela, anil]  # smooth: no burst of three in a row
    assert Counter(got[:6]) == {anil: 3, bela: 2, chitra: 1}
    assert Counter(got[6:]) == {anil: 3, bela: 2, chitra: 1}
    # A full cycle leaves the shared state where it started, so the next cycle repeats exactly.
    assert set(campaign.members.values_list("current_weight", flat=True)) == {0}


@pytest.mark.django_db
def test_weighted_rule_reason_names_the_weight():
    campaign = CampaignFactory(name="Car loans", routing_strategy="weighted")
    member(campaign, "anil", weight=3)
    member(campaign, "bela", weight=1)

    lead = route(campaign, now=at(MONDAY, "10:00"))

    assert latest_reason(lead) == "Weighted round robin in campaign 'Car loans' (weight 3 of 4)"


@pytest.mark.django_db
def test_weighted_rule_resumes_from_the_state_stored_on_the_members():
    campaign = CampaignFactory(routing_strategy="weighted")
    anil = member(campaign, "anil", weight=2)
    bela = member(campaign, "bela", weight=1)
    assert owners(campaign, 1, now=at(MONDAY, "10:00")) == [anil.user]

    # Another process continues from the rows, not from anything the first one remembered.
    CampaignMember.objects.filter(pk=anil.pk).update(current_weight=-1)
    CampaignMember.objects.filter(pk=bela.pk).update(current_weight=1)

    assert owners(campaign, 2, now=at(MONDAY, "10:05")) == [bela.user, anil.user]


@pytest.mark.django_db
def test_least_loaded_rule_picks_the_member_with_fewest_open_leads():
    campaign = CampaignFactory(name="Gold loans", routing_strategy="least_loaded")
    anil = member(campaign, "anil").user
    bela = member(campaign, "bela").user
    chitra = member(campaign, "chitra").user
    LeadFactory.create_batch(3, owner=anil, status="new")
    LeadFactory(owner=bela, status="contacted")
    LeadFactory.create_batch(5, owner=bela, status="won")  # closed leads are no load
    LeadFactory.create_batch(2, owner=bela, status="lost")
    LeadFactory(owner=chitra, status="qualified")
    LeadFactory(owner=chitra, status="new")

    lead = route(campaign, now=at(MONDAY, "10:00"))

    assert lead.owner == bela
    assert latest_reason(lead) == "Least loaded (fewest open leads) in campaign 'Gold loans' (1 open leads)"


@pytest.mark.django_db
def test_least_loaded_rule_counts_open_leads_from_every_campaign():
    campaign = CampaignFactory(routing_strategy="least_loaded")
    anil = member(campaign, "anil").user
    bela = member(campaign, "bela").user
    LeadFactory.create_batch(2, owner=anil, campaign=CampaignFactory(name="Other campaign"))
    LeadFactory(owner=bela, campaign=campaign)

    assert route(campaign, now=at(MONDAY, "10:00")).owner == bela


@pytest.mark.django_db
def test_least_loaded_tie_goes_to_whoever_waited_longest_since_their_last_lead():
    campaign = CampaignFactory(routing_strategy="least_loaded")
    anil = member(campaign, "anil").user
    bela = member(campaign, "bela").user
    chitra = member(campaign, "chitra").user
    for rep, hhmm in ((anil, "09:00"), (bela, "08:00"), (chitra, "09:30")):
        LeadAssignment.objects.create(
            lead=LeadFactory(owner=rep, status="won"),
            owner=rep,
            reason="earlier",
            created_at=at(MONDAY, hhmm),
        )

    assert route(campaign, now=at(MONDAY, "10:00")).owner == bela


@pytest.mark.django_db
def test_least_loaded_rule_shares_a_stream_of_new_leads_evenly():
    campaign = CampaignFactory(routing_strategy="least_loaded")
    reps = [member(campaign, name).user for name in ("anil", "bela", "chitra")]

    got = owners(campaign, 9, now=at(MONDAY, "10:00"))

    assert got[:3] == reps  # nobody has a lead yet: never-assigned first, then member order
    assert Counter(got) == {rep: 3 for rep in reps}


# === Eligibility: pauses, caps, working hours ===================================================


@pytest.mark.django_db
def test_paused_member_gets_no_leads_until_the_pause_ends():
    campaign = CampaignFactory()
    anil = member(campaign, "anil", paused_until=at(MONDAY, "12:00")).user
    bela = member(campaign, "bela").user

    assert owners(campaign, 2, now=at(MONDAY, "11:00")) == [bela, bela]
    assert owners(campaign, 2, now=at(MONDAY, "12:00")) == [anil, bela]


@pytest.mark.django_db
def test_inactive_member_gets_no_leads():
    campaign = CampaignFactory()
    member(campaign, "anil", is_active=False)
    bela = member(campaign, "bela").user

    assert owners(campaign, 2, now=at(MONDAY, "11:00")) == [bela, bela]


@pytest.mark.django_db
def test_daily_cap_stops_a_member_for_the_rest_of_the_business_day():
    campaign = CampaignFactory()
    anil = member(campaign, "anil", daily_cap=2).user
    bela = member(campaign, "bela").user

    assert owners(campaign, 6, now=at(MONDAY, "10:00")) == [anil, bela, anil, bela, bela, bela]
    assert owners(campaign, 1, now=at(MONDAY, "23:59")) == [bela]
    # 00:05 in India is still Monday in UTC: the cap follows the business's day, not the server's.
    assert owners(campaign, 1, now=at(day(1), "00:05")) == [anil]


@pytest.mark.django_db
def test_daily_cap_counts_only_this_campaigns_own_assignments():
    campaign = CampaignFactory()
    anil_member = member(campaign, "anil", daily_cap=1)
    anil = anil_member.user
    bela = member(campaign, "bela").user
    other = CampaignFactory(name="Other")
    CampaignMemberFactory(campaign=other, user=anil)
    route(other, now=at(MONDAY, "09:00"))  # a lead from another campaign
    with transaction.atomic():
        assignment.reassign(LeadFactory(campaign=campaign), owner=anil, by=UserFactory(username="boss"))

    assert owners(campaign, 3, now=at(MONDAY, "10:00")) == [anil, bela, bela]


@pytest.mark.django_db
def test_members_off_duty_get_no_leads_while_a_colleague_is_on_duty():
    campaign = CampaignFactory()
    anil = member(campaign, "anil", work_days="12345", work_start=time(9), work_end=time(18)).user
    bela = member(campaign, "bela").user  # no hours: always on duty

    assert owners(campaign, 2, now=at(MONDAY, "10:00")) == [anil, bela]
    assert owners(campaign, 2, now=at(MONDAY, "18:00")) == [bela, bela]  # the shift ends at 18:00
    assert owners(campaign, 2, now=at(day(5), "10:00")) == [bela, bela]  # Saturday


@pytest.mark.django_db
def test_working_hours_are_read_in_the_business_time_zone(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "America/New_York"}
    campaign = CampaignFactory()
    anil = member(campaign, "anil", work_start=time(9), work_end=time(17)).user
    bela = member(campaign, "bela", work_start=time(17), work_end=time(9)).user

    assert route(campaign, now=at(MONDAY, "14:00", tz=UTC)).owner == anil  # 10:00 in New York
    assert route(campaign, now=at(MONDAY, "22:00", tz=UTC)).owner == bela  # 18:00 in New York


@pytest.mark.django_db
def test_lead_at_night_goes_now_to_the_rep_whose_shift_starts_soonest():
    campaign = CampaignFactory(name="Home loans")
    member(campaign, "anil", work_days="12345", work_start=time(9, 30), work_end=time(18))
    bela = member(campaign, "bela", work_days="12345", work_start=time(8), work_end=time(16)).user

    lead = route(campaign, now=at(MONDAY, "21:00"))

    assert lead.owner == bela
    assert latest_reason(lead) == (
        "Nobody on duty in campaign 'Home loans'; next on duty at Tue 10 Jun 08:00 IST. "
        "Round robin in campaign 'Home loans'"
    )
    assert lead.assignments.get().created_at == at(MONDAY, "21:00")  # assigned now, not at 08:00


@pytest.mark.django_db
def test_weekend_lead_goes_to_the_first_rep_on_duty_after_the_weekend():
    campaign = CampaignFactory()
    anil = member(campaign, "anil", work_days="1", work_start=time(10), work_end=time(18)).user
    member(campaign, "bela", work_days="2", work_start=time(9), work_end=time(18))

    assert route(campaign, now=at(day(5), "15:00")).owner == anil  # Saturday -> Monday 10:00


@pytest.mark.django_db
def test_reps_starting_the_same_shift_share_night_leads_by_the_campaigns_rule():
    campaign = CampaignFactory()
    shift = {"work_start": time(9), "work_end": time(18)}
    anil = member(campaign, "anil", **shift).user
    bela = member(campaign, "bela", **shift).user

    assert owners(campaign, 4, now=at(MONDAY, "23:00")) == [anil, bela, anil, bela]


@pytest.mark.django_db
def test_off_hours_routing_fallback_sends_night_leads_to_the_fallback_owner(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "OFF_HOURS_ROUTING": "fallback"}
    night_desk = UserFactory(username="night-desk")
    campaign = CampaignFactory(name="Home loans", fallback_owner=night_desk)
    anil = member(campaign, "anil", work_start=time(9), work_end=time(18)).user

    assert route(campaign, now=at(MONDAY, "10:00")).owner == anil
    lead = route(campaign, now=at(MONDAY, "22:00"))
    assert lead.owner == night_desk
    assert latest_reason(lead) == "Nobody on duty in campaign 'Home loans': fallback owner"


@pytest.mark.django_db
def test_off_hours_fallback_without_a_fallback_owner_uses_the_default_owner(settings):
    desk = UserFactory(username="sales-desk")
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "OFF_HOURS_ROUTING": "fallback",
        "DEFAULT_OWNER": "sales-desk",
    }
    campaign = CampaignFactory()
    member(campaign, "anil", work_start=time(9), work_end=time(18))

    assert route(campaign, now=at(MONDAY, "22:00")).owner == desk


@pytest.mark.django_db
def test_night_shift_runs_past_midnight_into_the_next_day():
    campaign = CampaignFactory()
    owl = member(campaign, "owl", work_days="5", work_start=time(22), work_end=time(6)).user
    lark = member(campaign, "lark", work_days="12345", work_start=time(9), work_end=time(18)).user

    assert route(campaign, now=at(day(5), "03:00")).owner == owl  # Friday's shift, Saturday morning
    assert route(campaign, now=at(day(4), "12:00")).owner == lark  # Friday noon: only the lark


@pytest.mark.django_db
def test_campaign_whose_members_are_all_paused_or_capped_goes_to_its_fallback_owner():
    manager = UserFactory(username="manager")
    campaign = CampaignFactory(name="Diwali", fallback_owner=manager)
    member(campaign, "anil", paused_until=at(day(7), "09:00"))
    member(campaign, "bela", daily_cap=0)

    lead = route(campaign, now=at(MONDAY, "10:00"))

    assert lead.owner == manager
    assert "no active member" in latest_reason(lead)


# --- working hours on their own (no database) ----------------------------------------------------


def test_empty_working_hours_mean_always_on_duty():
    hours = WorkingHours()
    assert hours.on_duty(at(day(6), "03:00"), tz=IST)


def test_working_days_without_times_cover_the_whole_day():
    hours = WorkingHours(days=frozenset({6, 7}))
    assert hours.on_duty(at(day(5), "00:00"), tz=IST)
    assert hours.on_duty(at(day(6), "23:59"), tz=IST)
    assert hours.next_on_duty(at(MONDAY, "12:00"), tz=IST) == at(day(5), "00:00")


def test_shift_end_is_exclusive_and_start_inclusive():
    hours = WorkingHours(start=time(9), end=time(18))
    assert hours.on_duty(at(MONDAY, "09:00"), tz=IST)
    assert not hours.on_duty(at(MONDAY, "18:00"), tz=IST)
    assert hours.next_on_duty(at(MONDAY, "18:00"), tz=IST) == at(day(1), "09:00")


# === History: every assignment and re-assignment =================================================


@pytest.mark.django_db
def test_automatic_assignment_records_owner_campaign_rule_and_the_moment():
    campaign = CampaignFactory(name="Home loans")
    anil = member(campaign, "anil").user

    lead = route(campaign, now=at(MONDAY, "10:00"))

    record = lead.assignments.get()
    assert (record.owner, record.previous_owner, record.campaign, record.assigned_by) == (
        anil,
        None,
        campaign,
        None,
    )
    assert record.created_at == at(MONDAY, "10:00")
    assert record.reason == "Round robin in campaign 'Home loans'"


@pytest.mark.django_db
def test_reassignment_by_a_manager_is_recorded_with_who_did_it_and_announced_after_commit(
    django_capture_on_commit_callbacks,
):
    anil, bela, boss = (UserFactory(username=n) for n in ("anil", "bela", "boss"))
    lead = LeadFactory(owner=anil)
    heard = []

    def listener(**kwargs):
        heard.append((kwargs["owner"], kwargs["previous_owner"], kwargs["reason"]))

    lead_assigned.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            record = assignment.reassign(lead, owner=bela, by=boss)
    finally:
        lead_assigned.disconnect(listener)

    lead.refresh_from_db()
    assert lead.owner == bela
    assert (record.owner, record.previous_owner, record.assigned_by, record.campaign) == (
        bela,
        anil,
        boss,
        None,
    )
    assert record.reason == "Re-assigned by boss"
    assert heard == [(bela, anil, "Re-assigned by boss")]


@pytest.mark.django_db
def test_webhook_lead_is_routed_by_the_campaigns_weighted_rule():
    """End to end: real-shaped ad-click payloads, processed as the worker does."""
    campaign = CampaignFactory(name="Car loans", routing_strategy="weighted")
    AdFactory(meta_id="120226305854810726", campaign=campaign)
    anil = member(campaign, "anil", weight=2).user
    bela = member(campaign, "bela", weight=1).user

    for n in range(6):
        event = WebhookEventFactory(body=dumps(inbound(wa_id=f"91987650{n:04d}", ad_id="120226305854810726")))
        assert process_event(event.pk).status == "processed"

    assert Counter(Lead.objects.values_list("owner", flat=True)) == {anil.pk: 4, bela.pk: 2}


# === In the admin ================================================================================


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def superuser(username: str = "boss"):
    return UserFactory(username=username, is_superuser=True, is_staff=True, password=NO_PASSWORD)


def form_as_posted(page, **changes) -> dict:
    """The change page's main form and inline rows as the browser would post them back unchanged."""
    forms = [page.context["adminform"].form]
    data: dict = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        forms += formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None and value is not False:
                data[form.add_prefix(name)] = value
    data.update(changes)
    return data


def change_url(obj) -> str:
    return reverse(f"admin:whatsapp_leads_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.django_db
def test_manager_changing_the_owner_on_the_lead_page_is_recorded_as_a_reassignment_by_them():
    boss = superuser()
    anil, bela = UserFactory(username="anil"), UserFactory(username="bela")
    lead = LeadFactory(owner=anil)
    client = staff_client(boss)
    page = client.get(change_url(lead))

    response = client.post(change_url(lead), form_as_posted(page, owner=bela.pk))

    assert response.status_code == 302
    record = lead.assignments.get()
    assert (record.owner, record.previous_owner, record.assigned_by) == (bela, anil, boss)
    assert record.reason == "Re-assigned by boss"
    assert "Re-assigned by boss" in client.get(change_url(lead)).content.decode()  # the history inline


@pytest.mark.django_db
def test_reassign_action_hands_the_selected_leads_to_one_rep_recording_each_change():
    boss = superuser()
    anil, bela = UserFactory(username="anil"), UserFactory(username="bela")
    leads = [LeadFactory(owner=anil), LeadFactory(owner=None), LeadFactory(owner=bela)]
    untouched = LeadFactory(owner=anil)
    client = staff_client(boss)
    changelist = reverse("admin:whatsapp_leads_lead_changelist")
    selection = {"action": "reassign_leads", "_selected_action": [lead.pk for lead in leads]}

    chooser = client.post(changelist, selection)
    done = client.post(changelist, {**selection, "apply": "1", "owner": bela.pk})

    assert chooser.status_code == 200 and "Re-assign 3 leads" in chooser.content.decode()
    assert done.status_code == 302
    assert set(Lead.objects.filter(owner=bela).values_list("pk", flat=True)) == {lead.pk for lead in leads}
    assert Lead.objects.get(pk=untouched.pk).owner == anil
    records = LeadAssignment.objects.order_by("lead_id")
    assert [(r.lead_id, r.previous_owner_id, r.assigned_by_id) for r in records] == [
        (leads[0].pk, anil.pk, boss.pk),
        (leads[1].pk, None, boss.pk),
    ]  # the lead bela already had is not re-assigned to her again
    assert {r.reason for r in records} == {"Re-assigned by boss"}


@pytest.mark.django_db
def test_reps_are_not_offered_the_reassign_action():
    rep = UserFactory(username="anil", is_staff=True, password=NO_PASSWORD)
    rep.user_permissions.add(*Permission.objects.filter(codename__in=["view_lead", "change_lead"]))
    lead = LeadFactory(owner=rep)
    client = staff_client(rep)
    changelist = reverse("admin:whatsapp_leads_lead_changelist")

    page = client.get(changelist)
    client.post(
        changelist, {"action": "reassign_leads", "_selected_action": [lead.pk], "apply": "1", "owner": 1}
    )

    assert "reassign_leads" not in page.content.decode()
    assert not LeadAssignment.objects.exists()


@pytest.mark.django_db
def test_campaign_page_saves_a_members_pause_weight_cap_and_working_hours():
    campaign = CampaignFactory(name="Diwali")
    rep = member(campaign, "anil")
    client = staff_client(superuser())
    page = client.get(change_url(campaign))

    response = client.post(
        change_url(campaign),
        form_as_posted(
            page,
            routing_strategy="weighted",
            **{
                "members-0-weight": "3",
                "members-0-daily_cap": "20",
                "members-0-work_days": ["5", "1", "3"],
                "members-0-work_start": "09:30",
                "members-0-work_end": "18:00",
                "members-0-paused_until_0": "2025-06-12",
                "members-0-paused_until_1": "09:00",
            },
        ),
    )

    assert response.status_code == 302, response.context["errors"]
    rep.refresh_from_db()
    assert (rep.weight, rep.daily_cap, rep.work_days) == (3, 20, "135")
    assert (rep.work_start, rep.work_end) == (time(9, 30), time(18))
    assert rep.paused_until == at(date(2025, 6, 12), "09:00")
    assert Campaign.objects.get(pk=campaign.pk).routing_strategy == "weighted"


@pytest.mark.django_db
def test_campaign_page_says_what_each_member_is_doing_right_now():
    campaign = CampaignFactory()
    today = timezone.now().astimezone(IST).isoweekday()
    member(campaign, "on_leave", paused_until=timezone.now() + timedelta(days=2))
    member(campaign, "maxed_out", daily_cap=0)
    member(campaign, "day_off", work_days="".join(str(d) for d in range(1, 8) if d != today))
    member(campaign, "working")
    CampaignMemberFactory(campaign=campaign, user=UserFactory(username="left", is_active=False))

    page = staff_client(superuser()).get(change_url(campaign)).content.decode()

    assert "Paused until" in page
    assert "Daily cap reached (0/0)" in page
    assert "Off duty until" in page
    assert "On duty (0 today)" in page
    assert "Cannot take leads (user account disabled)" in page


@pytest.mark.django_db
def test_campaign_page_refuses_a_broken_keyword_pattern():
    campaign = CampaignFactory(name="Loans")
    client = staff_client(superuser())
    page = client.get(change_url(campaign))

    response = client.post(change_url(campaign), form_as_posted(page, keywords="loan, /emi(/"))

    assert response.status_code == 200
    assert "/emi(/" in str(response.context["adminform"].form.errors["keywords"])
    assert Campaign.objects.get(pk=campaign.pk).keywords == ""
