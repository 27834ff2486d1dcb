"""A campaign's numbers: leads per day, by status, per rep and conversion, computed by the database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.support.factories import CampaignFactory, LeadFactory, UserFactory
from whatsapp_leads.models import Lead
from whatsapp_leads.services.campaign_stats import campaign_numbers

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
TODAY = date(2025, 6, 30)
NOW = datetime.combine(TODAY, time(18)).replace(tzinfo=IST)
NO_PASSWORD = factory.Transformer.Force("!")


@pytest.fixture(autouse=True)
def business_day(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Kolkata"}


def created(lead: Lead, when: datetime) -> Lead:
    """Leads get ``created_at`` on insert; move it to the moment the test needs."""
    Lead.objects.filter(pk=lead.pk).update(created_at=when)
    return lead


def ist(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm)).replace(tzinfo=IST)


@pytest.fixture
def diwali():
    """Seven leads of a campaign, two reps and one unassigned, over three days; plus noise."""
    campaign = CampaignFactory(name="Diwali home loans")
    asha = UserFactory(username="asha", first_name="Asha", last_name="Verma", password=NO_PASSWORD)
    ravi = UserFactory(username="ravi", password=NO_PASSWORD)
    rows = [
        (asha, "won", ist(TODAY, "10:00")),
        (asha, "won", ist(TODAY, "00:30")),  # still yesterday in UTC; today in Pune
        (asha, "new", ist(TODAY - timedelta(days=1), "23:30")),
        (ravi, "contacted", ist(TODAY - timedelta(days=1), "12:00")),
        (ravi, "lost", ist(TODAY - timedelta(days=3), "12:00")),
        (ravi, "won", ist(TODAY - timedelta(days=3), "15:00")),
        (None, "new", ist(TODAY - timedelta(days=45), "12:00")),  # outside the 30 days, inside the totals
    ]
    for owner, status, when in rows:
        created(LeadFactory(campaign=campaign, owner=owner, status=status), when)
    created(
        LeadFactory(campaign=CampaignFactory(name="Other"), owner=asha, status="won"), ist(TODAY, "11:00")
    )
    return campaign


# === The numbers ================================================================================


def test_totals_and_conversion_count_only_the_campaigns_leads(diwali):
    numbers = campaign_numbers(diwali, now=NOW)

    assert (numbers.total, numbers.won) == (7, 3)
    assert numbers.conversion == pytest.approx(3 / 7)


def test_leads_per_day_cover_thirty_business_days_with_zero_days_included(diwali):
    per_day = campaign_numbers(diwali, now=NOW).per_day

    assert len(per_day) == 30
    assert per_day[0][0] == TODAY - timedelta(days=29)
    assert per_day[-1] == (TODAY, 2)  # 00:30 in Pune counts today although it is yesterday in UTC
    assert per_day[-2] == (TODAY - timedelta(days=1), 2)
    assert per_day[-3] == (TODAY - timedelta(days=2), 0)
    assert per_day[-4] == (TODAY - timedelta(days=3), 2)
    assert sum(n for _, n in per_day) == 6  # the 45-day-old lead is outside the window


def test_leads_by_status_list_every_status_in_pipeline_order(diwali):
    by_status = campaign_numbers(diwali, now=NOW).by_status

    assert [(status, n) for status, _, n in by_status] == [
        ("new", 2),
        ("contacted", 1),
        ("qualified", 0),
        ("won", 3),
        ("lost", 1),
    ]


def test_leads_per_rep_with_open_won_and_their_conversion(diwali):
    per_rep = campaign_numbers(diwali, now=NOW).per_rep

    assert [(r.name, r.leads, r.open, r.won) for r in per_rep] == [
        ("Asha Verma", 3, 1, 2),
        ("ravi", 3, 1, 1),
        ("Unassigned", 1, 1, 0),
    ]
    assert per_rep[0].conversion == pytest.approx(2 / 3)


def test_a_campaign_without_leads_has_no_conversion_rather_than_zero():
    numbers = campaign_numbers(CampaignFactory(), now=NOW)

    assert (numbers.total, numbers.conversion, numbers.per_rep) == (0, None, [])
    assert numbers.busiest_day == 0


def test_numbers_cost_four_queries_however_many_leads(diwali, django_assert_num_queries):
    LeadFactory.create_batch(40, campaign=diwali, owner=UserFactory(password=NO_PASSWORD))

    with django_assert_num_queries(4):
        campaign_numbers(diwali, now=NOW)


# === The admin page =============================================================================


def manager(*codenames: str):
    user = UserFactory(password=NO_PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def numbers_url(campaign) -> str:
    return reverse("admin:whatsapp_leads_campaign_numbers", args=[campaign.pk])


def test_numbers_page_shows_the_campaigns_figures(diwali):
    client = Client()
    client.force_login(manager("view_campaign"))

    page = client.get(numbers_url(diwali)).content.decode()

    assert "Diwali home loans" in page
    assert "42.9%" in page  # conversion: 3 won of 7
    assert "Asha Verma" in page and "ravi" in page and "Unassigned" in page
    assert "Qualified" in page


def test_numbers_page_runs_a_bounded_number_of_queries(diwali, django_assert_max_num_queries):
    reps = UserFactory.create_batch(15, password=NO_PASSWORD)
    for n in range(60):
        LeadFactory(campaign=diwali, owner=reps[n % 15], status=("won", "new", "lost")[n % 3])
    client = Client()
    client.force_login(manager("view_campaign"))

    # 9 for the session, the campaign and the lead figures, 5 for spend, cost and places (ad loop),
    # 2 for the conversations' free entry points (outbound), 5 for the response times (totals, per
    # rep and their names, breaches in the range, breaches per day)
    with django_assert_max_num_queries(21):
        response = client.get(numbers_url(diwali))

    assert response.status_code == 200
    assert response.context["numbers"].total == 67


def test_campaign_change_page_links_to_its_numbers(diwali):
    client = Client()
    client.force_login(manager("view_campaign", "change_campaign"))

    page = client.get(reverse("admin:whatsapp_leads_campaign_change", args=[diwali.pk])).content.decode()

    assert f'href="{numbers_url(diwali)}"' in page


def test_numbers_page_needs_permission_to_view_campaigns(diwali):
    client = Client()
    client.force_login(manager("view_lead"))

    assert client.get(numbers_url(diwali)).status_code == 403


def test_numbers_page_of_an_unknown_campaign_is_not_found():
    client = Client()
    client.force_login(manager("view_campaign"))

    assert client.get(reverse("admin:whatsapp_leads_campaign_numbers", args=[999999])).status_code == 404
