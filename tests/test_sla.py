"""The first-response SLA: a deadline from the first message, kept by the services, and the checker
that applies each breach once: notify the owner then the managers, or re-assign to the next member."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.support.engagement import we_send, writes
from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory, UserFactory
from tests.support.world import AD_ID
from whatsapp_leads import checks, tasks
from whatsapp_leads.models import Campaign, Lead, LeadAssignment, SlaBreach
from whatsapp_leads.services import assignment
from whatsapp_leads.services.sla import deadline
from whatsapp_leads.services.sla.breaches import check_due
from whatsapp_leads.signals import sla_breached

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
SLA = timedelta(minutes=10)
WA = "919822200001"


@pytest.fixture(autouse=True)
def business_zone(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Kolkata"}


def campaign(
    *, reps: int = 3, action: str = "notify", clock: str = "wall", managers=(), **member
) -> Campaign:
    row = CampaignFactory(first_response_sla=SLA, sla_action=action, sla_clock=clock)
    for n in range(reps):
        CampaignMemberFactory(campaign=row, user=UserFactory(username=f"sla-rep-{n}"), **member)
    row.managers.set(managers)
    AdFactory(meta_id=AD_ID, campaign=row)
    return row


def reps(row: Campaign) -> list:
    return [m.user for m in row.members.order_by("id")]


def new_lead(first_at: datetime, *, wa_id: str = WA) -> Lead:
    return writes(wa_id, first_at, ad_id=AD_ID)


def ago(minutes: float) -> datetime:
    return (timezone.now() - timedelta(minutes=minutes)).replace(microsecond=0)  # Meta's whole seconds


@pytest.fixture
def breaches():
    received: list = []

    def receiver(sender, *, lead, breach, **kwargs):
        received.append((lead.pk, breach.level, breach.action))

    sla_breached.connect(receiver, dispatch_uid="test-sla-breaches")
    yield received
    sla_breached.disconnect(dispatch_uid="test-sla-breaches")


# --- the deadline -----------------------------------------------------------------------------------


def test_a_new_ad_lead_is_due_an_answer_one_sla_after_its_first_message():
    campaign()
    first = ago(3)
    lead = new_lead(first)
    assert (lead.sla_started_at, lead.sla_due_at) == (first, first + SLA)
    assert lead.owner is not None and lead.sla_breached_at is None


def test_in_business_time_the_deadline_of_an_evening_message_falls_in_the_next_shift():
    campaign(clock="business", work_days="12345", work_start=time(9), work_end=time(18))
    lead = new_lead(datetime(2026, 11, 27, 17, 55, tzinfo=IST))  # a Friday
    assert lead.sla_due_at == datetime(2026, 11, 30, 9, 5, tzinfo=IST)  # Monday


def test_a_campaign_without_an_sla_sets_no_deadline():
    row = campaign()
    Campaign.objects.filter(pk=row.pk).update(first_response_sla=None)
    lead = new_lead(ago(3))
    assert (lead.sla_started_at, lead.sla_due_at) == (None, None)


def test_the_first_answer_clears_the_deadline_but_a_greeting_does_not():
    campaign()
    lead = new_lead(ago(5))
    we_send(lead, ago(4), origin="greeting")
    assert Lead.objects.get(pk=lead.pk).sla_due_at is not None
    we_send(lead, ago(3))
    assert Lead.objects.get(pk=lead.pk).sla_due_at is None


def test_describe_says_an_sla_the_way_a_manager_does():
    assert [deadline.describe(timedelta(seconds=s)) for s in (45, 600, 5400, 86400, 2 * 86400 + 3600, 0)] == [
        "45 s", "10 min", "1 h 30 min", "1 day", "2 days 1 h", "0 s",
    ]  # fmt: skip


# --- notify -----------------------------------------------------------------------------------------


def test_breach_notifies_the_owner_then_escalates_to_the_managers_one_sla_later(
    manager, breaches, django_capture_on_commit_callbacks
):
    row = campaign(managers=[manager])
    first = ago(30)
    lead = new_lead(first)
    owner = lead.owner

    with django_capture_on_commit_callbacks(execute=True):
        report = check_due(now=first + SLA + timedelta(seconds=1))

    (breach,) = report.breaches
    assert (breach.level, breach.action, breach.owner, breach.campaign) == (1, "notified", owner, row)
    assert (breach.sla, breach.clock, breach.due_at, breach.started_at) == (SLA, "wall", first + SLA, first)
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "within 10 min" in mail.outbox[0].body
    lead.refresh_from_db()
    assert lead.sla_due_at == first + 2 * SLA and lead.sla_breached_at is not None
    assert breaches == [(lead.pk, 1, "notified")]

    with django_capture_on_commit_callbacks(execute=True):
        check_due(now=first + 2 * SLA + timedelta(seconds=1))

    assert [m.to for m in mail.outbox][1:] == [[manager.email]]
    assert mail.outbox[1].subject.startswith("Still unanswered")
    assert list(SlaBreach.objects.order_by("level").values_list("level", "action")) == [
        (1, "notified"), (2, "escalated"),
    ]  # fmt: skip
    assert Lead.objects.get(pk=lead.pk).sla_due_at is None
    assert check_due(now=first + 10 * SLA).breaches == []
    assert len(breaches) == 2
    assert lead.owner == owner  # notify never moves the lead


def test_a_manager_who_may_not_see_every_lead_gets_no_email(rep, django_capture_on_commit_callbacks):
    campaign(managers=[rep])
    first = ago(30)
    new_lead(first)
    with django_capture_on_commit_callbacks(execute=True):
        check_due(now=first + SLA + timedelta(seconds=1))
        check_due(now=first + 2 * SLA + timedelta(seconds=1))
    assert len(mail.outbox) == 1  # the owner's; the level-2 mail had nobody allowed to read it
    assert SlaBreach.objects.filter(level=2).exists()


def test_without_managers_there_is_no_second_level():
    campaign()
    first = ago(30)
    lead = new_lead(first)
    check_due(now=first + SLA + timedelta(seconds=1))
    assert Lead.objects.get(pk=lead.pk).sla_due_at is None
    assert SlaBreach.objects.count() == 1


# --- reassign -----------------------------------------------------------------------------------------


def test_breach_reassigns_to_the_next_eligible_member_once_with_a_fresh_sla(
    breaches, django_capture_on_commit_callbacks
):
    row = campaign(action="reassign")
    first, team = ago(30), reps(row)
    lead = new_lead(first)
    assert lead.owner == team[0]
    now = first + SLA + timedelta(seconds=1)

    with django_capture_on_commit_callbacks(execute=True):
        report = check_due(now=now)
        again = check_due(now=now)

    (breach,) = report.breaches
    assert again.breaches == []
    assert (breach.action, breach.owner, breach.new_owner) == ("reassigned", team[0], team[1])
    lead.refresh_from_db()
    assert lead.owner == team[1]
    assert (lead.sla_started_at, lead.sla_due_at) == (now, now + SLA)  # the new owner's own SLA
    record = LeadAssignment.objects.filter(lead=lead).latest("id")
    assert record.reason.startswith("No reply within 10 min (SLA). Round robin in campaign")
    assert (record.previous_owner, record.owner, record.campaign, record.assigned_by) == (
        team[0],
        team[1],
        row,
        None,
    )
    assert breaches == [(lead.pk, 1, "reassigned")]

    check_due(now=now + SLA + timedelta(seconds=1))  # the new owner did not answer either
    lead.refresh_from_db()
    assert lead.owner == team[2]
    assert SlaBreach.objects.filter(lead=lead, action="reassigned").count() == 2


def test_reassign_never_hands_the_lead_back_to_the_same_rep_even_if_it_is_their_turn():
    row = campaign(reps=2, action="reassign")
    first, team = ago(30), reps(row)
    lead = new_lead(first)
    Campaign.objects.filter(pk=row.pk).update(last_assigned_member=None)  # rep 0 would be next
    check_due(now=first + SLA + timedelta(seconds=1))
    assert Lead.objects.get(pk=lead.pk).owner == team[1] != lead.owner


def test_a_fixed_owner_campaign_reassigns_round_its_members():
    row = campaign(reps=2, action="reassign")
    team = reps(row)
    Campaign.objects.filter(pk=row.pk).update(routing_strategy=Campaign.Strategy.FIXED, fixed_owner=team[0])
    first = ago(30)
    lead = new_lead(first)
    assert lead.owner == team[0]
    check_due(now=first + SLA + timedelta(seconds=1))
    lead.refresh_from_db()
    assert lead.owner == team[1]
    assert "Round robin among the members" in LeadAssignment.objects.latest("id").reason


def test_nobody_else_eligible_is_recorded_and_the_lead_stays(manager, django_capture_on_commit_callbacks):
    row = campaign(reps=1, action="reassign", managers=[manager])
    first = ago(30)
    lead = new_lead(first)

    with django_capture_on_commit_callbacks(execute=True):
        (breach,) = check_due(now=first + SLA + timedelta(seconds=1)).breaches

    assert (breach.action, breach.new_owner) == ("nobody", None)
    lead.refresh_from_db()
    assert lead.owner == reps(row)[0] and lead.sla_due_at is None
    assert LeadAssignment.objects.filter(lead=lead).count() == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_after_sla_max_reassignments_the_managers_are_told_instead(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "SLA_MAX_REASSIGNMENTS": 1}
    row = campaign(action="reassign")
    first = ago(60)
    lead = new_lead(first)
    now = first + SLA + timedelta(seconds=1)
    check_due(now=now)
    check_due(now=now + SLA + timedelta(seconds=1))
    lead.refresh_from_db()
    assert lead.owner == reps(row)[1] and lead.sla_due_at is None
    assert list(SlaBreach.objects.order_by("breached_at").values_list("action", flat=True)) == [
        "reassigned",
        "escalated",
    ]


# --- nothing happens ----------------------------------------------------------------------------------


def test_a_lead_answered_in_time_never_breaches():
    campaign(action="reassign")
    first = ago(30)
    lead = new_lead(first)
    we_send(lead, first + SLA - timedelta(seconds=30))
    report = check_due(now=first + 3 * SLA)
    assert report.breaches == [] and not SlaBreach.objects.exists()
    assert Lead.objects.get(pk=lead.pk).owner == lead.owner


def test_a_lead_reassigned_by_a_person_is_left_alone(manager):
    row = campaign(action="reassign")
    first = ago(30)
    lead = new_lead(first)
    assignment.reassign(lead, owner=reps(row)[2], by=manager)
    assert (lead.sla_started_at, lead.sla_due_at) == (None, None)
    assert check_due(now=first + 3 * SLA).breaches == []
    assert Lead.objects.get(pk=lead.pk).owner == reps(row)[2]


def test_a_lead_a_person_moved_past_new_or_whose_campaign_dropped_its_sla_is_cleared_not_breached():
    campaign()
    other = CampaignFactory(first_response_sla=SLA)
    AdFactory(meta_id="120226305854799999", campaign=other)
    first = ago(30)
    called = new_lead(first, wa_id="919822200002")
    writes("919822200003", first, ad_id="120226305854799999")
    Lead.objects.filter(pk=called.pk).update(status=Lead.Status.CONTACTED)  # they phoned
    Campaign.objects.filter(pk=other.pk).update(first_response_sla=None)

    report = check_due(now=first + SLA + timedelta(seconds=1))

    assert (report.breaches, report.cleared) == ([], 2)
    assert not Lead.objects.filter(sla_due_at__isnull=False).exists()
    assert not SlaBreach.objects.exists()


def test_a_lead_not_yet_due_is_not_touched():
    campaign()
    first = ago(5)
    new_lead(first)
    assert check_due(now=first + SLA - timedelta(seconds=1)).batches == 0


# --- the command, the task, the settings -------------------------------------------------------------


def test_whatsapp_check_sla_applies_due_breaches_in_batches_and_says_what_it_did():
    row = campaign(action="reassign")
    team = reps(row)
    for n in range(3):
        new_lead(ago(30 + n), wa_id=f"91982220010{n}")
    out = StringIO()

    call_command("whatsapp_check_sla", "--batch-size", "2", stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 4
    assert all("level 1: Re-assigned from sla-rep-" in line for line in lines[:3])
    assert lines[-1] == "Done: 3 breach(es) applied (3 reassigned); 0 no longer due; 0 failed."
    assert {lead.owner for lead in Lead.objects.all()} <= set(team)
    again = StringIO()
    call_command("whatsapp_check_sla", stdout=again)
    assert again.getvalue().strip() == "Done: 0 breach(es) applied; 0 no longer due; 0 failed."


def test_a_long_run_holds_one_batch_at_a_time_yet_counts_them_all():
    campaign()
    for n in range(5):
        new_lead(ago(30 + n), wa_id=f"91982220020{n}")
    seen: list[int] = []

    report = check_due(batch_size=2, on_batch=lambda applied: seen.append(len(applied)), keep_breaches=False)

    assert seen == [2, 2, 1] and report.batches == 3
    assert report.breaches == [] and report.applied == 5 and report.actions == {"notified": 5}
    assert SlaBreach.objects.count() == 5


def test_whatsapp_check_sla_dry_run_lists_what_is_due_and_changes_nothing():
    campaign(action="reassign")
    lead = new_lead(ago(30))
    out = StringIO()
    call_command("whatsapp_check_sla", "--dry-run", stdout=out)
    assert f"Due: lead #{lead.pk}" in out.getvalue() and "Dry run: 1 lead(s) due." in out.getvalue()
    assert not SlaBreach.objects.exists()
    with pytest.raises(CommandError, match="batch-size"):
        call_command("whatsapp_check_sla", "--batch-size", "0")


def test_the_beat_task_runs_the_same_checker():
    campaign()
    new_lead(ago(30))
    assert tasks.check_sla() == {"breaches": 1, "notified": 1, "cleared": 0, "failed": 0}


@pytest.mark.parametrize(
    ("values", "ids"),
    [
        ({"RESPONSE_ORIGINS": "rep"}, ["whatsapp_leads.E021"]),
        ({"RESPONSE_ORIGINS": ["rep", "greeting"]}, ["whatsapp_leads.W021"]),
        ({"RESPONSE_ORIGINS": ["rep", "phone"]}, ["whatsapp_leads.W021"]),
        ({"SLA_BATCH_SIZE": 0}, ["whatsapp_leads.E021"]),
        ({"SLA_MAX_REASSIGNMENTS": -1}, ["whatsapp_leads.E021"]),
        ({"SLA_MAX_REASSIGNMENTS": None, "RESPONSE_ORIGINS": ["rep"]}, []),
    ],
)
def test_sla_settings_are_checked_by_name(settings, values, ids):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, **values}
    assert [issue.id for issue in checks.check_sla_settings()] == ids


def test_the_campaign_api_shows_the_sla_settings():
    from rest_framework.test import APIClient

    from tests.support.people import staff

    row = campaign(action="reassign", clock="business")
    client = APIClient()
    client.force_authenticate(staff("view_campaign", username="ops"))
    one = client.get(f"/whatsapp/api/campaigns/{row.pk}/").json()
    assert (one["first_response_sla"], one["sla_action"], one["sla_clock"]) == (
        "00:10:00",
        "reassign",
        "business",
    )


def test_the_campaign_admin_edits_the_sla_in_its_own_fieldset(superuser):
    from tests.support.people import logged_in

    row = campaign()
    html = logged_in(superuser).get(f"/admin/whatsapp_leads/campaign/{row.pk}/change/").content.decode()
    assert "First-response SLA" in html
    for name in ("first_response_sla", "sla_clock", "sla_action", "managers"):
        assert f'name="{name}"' in html
    assert 'name="name"' in html and 'name="routing_strategy"' in html  # the other fields are still there


def test_erasing_a_person_keeps_the_breach_record_and_stops_the_clock():
    from whatsapp_leads.services.privacy.erasure import erase_lead

    campaign()
    first = ago(30)
    breached = new_lead(first)
    check_due(now=first + SLA + timedelta(seconds=1))
    waiting = new_lead(ago(1), wa_id="919822200009")

    erase_lead(breached, "data principal request")
    erase_lead(waiting, "data principal request")

    assert SlaBreach.objects.filter(lead=breached).count() == 1
    assert Lead.objects.get(pk=waiting.pk).sla_due_at is None


def test_a_business_clock_breach_is_worded_the_same_and_remembers_its_clock():
    row = campaign(reps=2, action="reassign", clock="business")  # members without hours: always on duty
    first = ago(30)
    lead = new_lead(first)
    assert lead.sla_due_at == first + SLA
    (breach,) = check_due(now=first + SLA + timedelta(seconds=1)).breaches
    assert breach.clock == "business" and breach.new_owner == reps(row)[1]
    assert LeadAssignment.objects.latest("id").reason.startswith("No reply within 10 min (SLA). ")


def test_a_lead_nobody_owns_goes_to_the_managers_at_once(manager, django_capture_on_commit_callbacks):
    campaign(reps=0, managers=[manager])
    first = ago(30)
    lead = new_lead(first)
    assert lead.owner is None and lead.sla_due_at == first + SLA
    with django_capture_on_commit_callbacks(execute=True):
        (breach,) = check_due(now=first + SLA + timedelta(seconds=1)).breaches
    assert (breach.level, breach.action, breach.detail) == (1, "escalated", "No owner: managers notified")
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert Lead.objects.get(pk=lead.pk).sla_due_at is None


def test_a_mail_server_that_is_down_leaves_the_breach_standing(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.support.people.BrokenEmailBackend"
    campaign()
    first = ago(30)
    new_lead(first)
    with django_capture_on_commit_callbacks(execute=True):
        report = check_due(now=first + SLA + timedelta(seconds=1))
    assert [b.action for b in report.breaches] == ["notified"]
    assert SlaBreach.objects.count() == 1
