"""Response times on the screens and in the API: first response median and 90th percentile per
campaign and per rep, the share within the SLA, breaches, unanswered leads, a rep's own page, and
the SLA colour of waits in the inbox and the lead list. Metrics are set on the rows directly (the
engagement services that keep them are tested on their own)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.support.factories import CampaignFactory, LeadFactory
from tests.support.people import logged_in, staff
from whatsapp_leads.aggregates import PercentileCont, interpolated_percentile
from whatsapp_leads.models import Campaign, Lead, SlaBreach
from whatsapp_leads.services.response_stats import campaign_response, response_figures

pytestmark = pytest.mark.django_db

SLA = timedelta(minutes=10)


def answered(campaign, owner, *, wall: int, business: int | None = None, **fields) -> Lead:
    now = timezone.now()
    return LeadFactory(campaign=campaign, owner=owner, first_inbound_at=now - timedelta(seconds=wall + 60),
                       first_reply_at=now - timedelta(seconds=60), first_response_seconds=wall,
                       first_response_business_seconds=wall if business is None else business,
                       response_count=1, response_seconds_total=wall, **fields)  # fmt: skip


def unanswered(campaign, owner, *, waited: timedelta, due_in: timedelta | None, **fields) -> Lead:
    now = timezone.now()
    return LeadFactory(campaign=campaign, owner=owner, first_inbound_at=now - waited,
                       awaiting_reply_since=now - waited, sla_started_at=now - waited,
                       sla_due_at=None if due_in is None else now + due_in, **fields)  # fmt: skip


def breach(lead: Lead, *, ago: timedelta = timedelta(minutes=1), level: int = 1, owner=None) -> SlaBreach:
    at = timezone.now() - ago
    return SlaBreach.objects.create(lead=lead, campaign=lead.campaign, owner=owner or lead.owner, sla=SLA,
                                    clock="wall", level=level, started_at=at - SLA, due_at=at,
                                    action=SlaBreach.Action.NOTIFIED, breached_at=at)  # fmt: skip


def moments_ago() -> timedelta:
    """A minute ago, but never before today's local midnight: the charts end today, and a breach a
    minute before midnight would be yesterday's (a test run just after midnight IST saw it)."""
    now = timezone.localtime()
    return min(timedelta(minutes=1), now - now.replace(hour=0, minute=0, second=0, microsecond=0))


@pytest.fixture
def loans(rep, other_rep):
    """A wall-clock 10 min SLA campaign: Asha answers in 2, 4, 6 and 30 min; Vikram in 8 min; one
    lead overdue, one breached and still unanswered, one still inside its time; plus noise."""
    campaign = CampaignFactory(name="Home loans", first_response_sla=SLA, sla_clock=Campaign.SlaClock.WALL)
    for minutes in (2, 4, 6, 30):
        answered(campaign, rep, wall=minutes * 60, business=minutes * 30)
    answered(campaign, other_rep, wall=8 * 60)
    unanswered(campaign, rep, waited=timedelta(minutes=12), due_in=timedelta(minutes=-2))  # overdue
    gone = unanswered(campaign, other_rep, waited=timedelta(minutes=20), due_in=None,
                      sla_breached_at=timezone.now() - timedelta(minutes=10))  # fmt: skip
    breach(gone, ago=moments_ago())
    unanswered(campaign, rep, waited=timedelta(minutes=1), due_in=timedelta(minutes=9))  # not judged yet
    other = CampaignFactory(name="Other", first_response_sla=SLA)
    answered(other, rep, wall=1)  # another campaign's figures never count here
    breach(LeadFactory(campaign=other, owner=rep, sla_breached_at=timezone.now()))
    return campaign


def test_percentile_matches_postgresqls_percentile_cont_definition_on_either_database(rep):
    campaign = CampaignFactory()
    values = [5, 1, 9, 3, 7, 100]
    for v in values:
        answered(campaign, rep, wall=v)
    figures = Lead.objects.filter(campaign=campaign).aggregate(
        p50=PercentileCont("first_response_seconds", 0.5), p90=PercentileCont("first_response_seconds", 0.9),
        p0=PercentileCont("first_response_seconds", 0.0), none=PercentileCont("last_response_seconds", 0.5),
    )  # fmt: skip
    assert figures["p50"] == pytest.approx(6.0)  # between 5 and 7
    assert figures["p90"] == pytest.approx(interpolated_percentile([float(v) for v in values], 0.9))
    assert figures["p90"] == pytest.approx(54.5)  # position 4.5: 9 + (100 - 9) * 0.5
    assert figures["p0"] == 1.0
    assert figures["none"] is None  # only NULLs: undefined, not 0
    with pytest.raises(ValueError):
        PercentileCont("first_response_seconds", 1.5)


def test_campaign_figures_follow_the_documented_definitions(loans, rep, other_rep):
    today = timezone.localdate()
    numbers = campaign_response(loans, since=None, until=None, chart_since=today - timedelta(days=6),
                                chart_until=today)  # fmt: skip
    total = numbers.total
    assert total.leads == 8 and total.answered == 5
    assert total.median_seconds == pytest.approx(360.0)  # 2, 4, 6, 8, 30 min
    assert total.p90_seconds == pytest.approx(1272.0)  # position 3.6: 8 + (30 - 8) * 0.6 min
    assert total.average_seconds == pytest.approx(600.0)
    assert total.median_business_seconds == pytest.approx(180.0)  # 1, 2, 3, 8, 15 min
    # within: 2, 4, 6, 8 min; judged: the five answered, the overdue one and the breached one.
    assert (total.within_sla, total.judged) == (4, 7)
    assert total.within_sla_share == pytest.approx(4 / 7)
    assert total.unanswered == 3 and total.breached_leads == 1
    assert numbers.breaches == 1  # the other campaign's breach is not counted
    assert numbers.breaches_per_day[-1] == (today, 1) and len(numbers.breaches_per_day) == 7
    per_rep = {r.name: r.figures for r in numbers.per_rep}
    assert per_rep["Asha Verma"].answered == 4 and per_rep["Asha Verma"].unanswered == 2
    assert per_rep["vikram_rep"].median_seconds == 480.0
    assert per_rep["vikram_rep"].within_sla_share == pytest.approx(1 / 2)  # 8 min in time, one breached


def test_a_business_clock_campaign_judges_by_business_seconds(rep):
    campaign = CampaignFactory(first_response_sla=SLA, sla_clock=Campaign.SlaClock.BUSINESS)
    answered(campaign, rep, wall=13 * 3600, business=5 * 60)  # overnight, five working minutes
    figures = response_figures(Lead.objects.filter(campaign=campaign))
    assert (figures.within_sla, figures.judged) == (1, 1)


def test_without_an_sla_or_leads_every_ratio_is_undefined_not_zero(rep):
    no_sla = CampaignFactory(first_response_sla=None)
    answered(no_sla, rep, wall=60)
    assert response_figures(Lead.objects.filter(campaign=no_sla)).within_sla_share is None
    empty = response_figures(Lead.objects.none())
    assert empty.median_seconds is None and empty.within_sla_share is None and empty.leads == 0


def test_a_persons_figures_across_campaigns_judge_each_lead_by_its_own_campaigns_sla(rep):
    strict = CampaignFactory(first_response_sla=timedelta(minutes=1), sla_clock="wall")
    relaxed = CampaignFactory(first_response_sla=timedelta(hours=1), sla_clock="wall")
    answered(strict, rep, wall=300)
    answered(relaxed, rep, wall=300)
    figures = response_figures(Lead.objects.filter(owner=rep))
    assert (figures.within_sla, figures.judged) == (1, 2)


def numbers_url(campaign) -> str:
    return reverse("admin:whatsapp_leads_campaign_numbers", args=[campaign.pk])


@pytest.fixture
def viewer():
    """Who reads every campaign's whole numbers (a manager of the campaigns)."""
    return staff("view_campaign", "view_lead", "view_all_leads", username="meera_viewer")


def test_numbers_page_shows_response_tables_and_chart_canvases_with_their_data(loans, viewer):
    response = logged_in(viewer).get(numbers_url(loans))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="wl-chart-reps"' in page and 'id="wl-chart-breaches"' in page
    assert "whatsapp_leads/vendor/chart.umd.min.js" in page and "cdn" not in page.lower()
    assert 'id="wl-response-charts"' in page
    assert "6 min</strong>median first response" in page
    assert "57.1%</strong>answered within SLA (4 of 7)" in page
    charts = response.context["response_charts"]
    assert charts["reps"]["labels"] == ["Asha Verma", "vikram_rep"]
    assert charts["reps"]["median"] == [5.0, 8.0]  # minutes


def test_a_rep_sees_only_their_own_response_figures_on_the_campaign_page(loans, rep):
    from tests.support.factories import CampaignMemberFactory

    CampaignMemberFactory(campaign=loans, user=rep)
    rep.user_permissions.add(
        Permission.objects.get(codename="view_campaign", content_type__app_label="whatsapp_leads")
    )
    response = logged_in(rep).get(numbers_url(loans))
    assert response.status_code == 200
    numbers = response.context["response"]
    assert [r.name for r in numbers.per_rep] == ["Asha Verma"]
    assert numbers.total.answered == 4 and numbers.breaches == 0  # Vikram's breach is his


def test_numbers_page_queries_stay_constant_as_leads_grow(loans, viewer, rep):
    client = logged_in(viewer)
    client.get(numbers_url(loans))
    with CaptureQueriesContext(connection) as few:
        client.get(numbers_url(loans))
    for n in range(40):
        lead = answered(loans, rep if n % 2 else staff(username=f"extra{n}"), wall=60 + n)
        if n % 5 == 0:
            breach(lead, ago=timedelta(days=n % 3))
    with CaptureQueriesContext(connection) as many:
        client.get(numbers_url(loans))
    assert len(many) == len(few)


def test_the_numbers_api_carries_the_same_figures_null_where_undefined(loans):
    viewer = staff("view_campaign")
    client = APIClient()
    client.force_authenticate(viewer)
    body = client.get(reverse("whatsapp_leads:campaign-numbers", args=[loans.pk])).json()["response"]
    assert body["sla_seconds"] == 600 and body["sla_clock"] == "wall"
    assert body["total"]["median_seconds"] == 360.0 and body["total"]["within_sla_share"] == 0.5714
    assert body["total"]["unanswered"] == 3 and body["breaches"] == 1
    assert [r["name"] for r in body["per_rep"]] == ["Asha Verma", "vikram_rep"]
    assert len(body["breaches_per_day"]) == 30 and body["breaches_per_day"][-1]["breaches"] == 1
    empty = client.get(reverse("whatsapp_leads:campaign-numbers", args=[CampaignFactory().pk])).json()[
        "response"
    ]
    assert empty["sla_seconds"] is None
    assert empty["total"]["median_seconds"] is None and empty["total"]["within_sla_share"] is None
    assert empty["per_rep"] == []


def test_the_openapi_schema_documents_the_response_block():
    client = APIClient()
    client.force_authenticate(staff("view_campaign"))
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    numbers = schema["components"]["schemas"]["CampaignNumbers"]["properties"]
    assert "response" in numbers
    figures = schema["components"]["schemas"]["ResponseFigures"]["properties"]
    assert figures["median_seconds"]["nullable"] is True
    assert figures["within_sla_share"]["nullable"] is True


# --- the inbox and the lead list: waits coloured against the SLA ----------------------------------
def test_inbox_waits_carry_the_sla_state_in_colour_and_words(rep):
    campaign = CampaignFactory(first_response_sla=SLA, sla_clock="wall")
    now = timezone.now()
    LeadFactory(owner=rep, campaign=campaign, name="Fresh", awaiting_reply_since=now - timedelta(minutes=1),
                sla_due_at=now + timedelta(minutes=9))  # fmt: skip
    LeadFactory(owner=rep, campaign=campaign, name="Close", awaiting_reply_since=now - timedelta(minutes=9),
                sla_due_at=now + timedelta(minutes=1))  # fmt: skip
    LeadFactory(owner=rep, campaign=campaign, name="Late", awaiting_reply_since=now - timedelta(minutes=15),
                sla_due_at=None, sla_breached_at=now - timedelta(minutes=5))  # fmt: skip
    LeadFactory(owner=rep, campaign=CampaignFactory(), name="NoSla", awaiting_reply_since=now)
    page = logged_in(rep).get(reverse("admin:whatsapp_leads_inbox")).content.decode()
    rows = {
        name: page[page.index(f">{name}</a>") :].split("</tr>")[0]
        for name in ("Fresh", "Close", "Late", "NoSla")
    }
    assert "wl-sla-within" in rows["Fresh"] and "Within SLA" in rows["Fresh"]
    assert "wl-sla-near" in rows["Close"] and "Near SLA" in rows["Close"]
    assert "wl-sla-breached" in rows["Late"] and "SLA breached" in rows["Late"]
    assert "wl-sla-none" in rows["NoSla"] and "SLA" not in rows["NoSla"]
    assert reverse("admin:whatsapp_leads_my_numbers") in page


def test_lead_list_shows_the_wait_against_the_sla(manager):
    campaign = CampaignFactory(first_response_sla=SLA, sla_clock="wall")
    now = timezone.now()
    LeadFactory(campaign=campaign, name="Late", awaiting_reply_since=now - timedelta(minutes=15),
                sla_due_at=now - timedelta(minutes=5))  # fmt: skip
    page = logged_in(manager).get(reverse("admin:whatsapp_leads_lead_changelist")).content.decode()
    assert "wl-sla-breached" in page and 'title="SLA breached' in page and "Breached</span>" in page
    assert "15 min" in page


def count_queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def test_inbox_and_lead_list_cost_what_they_did_before_the_sla_colours(rep):
    campaign = CampaignFactory(first_response_sla=SLA)
    now = timezone.now()
    for n in range(20):
        LeadFactory(owner=rep, campaign=campaign, awaiting_reply_since=now - timedelta(minutes=n),
                    sla_due_at=now + timedelta(minutes=10 - n))  # fmt: skip
    client = logged_in(rep)
    assert count_queries(client, reverse("admin:whatsapp_leads_inbox")) == 7
    # 11 before the SLA colours, plus the UTM source and campaign filters' value lookups (issue 13).
    assert count_queries(client, reverse("admin:whatsapp_leads_lead_changelist")) == 13


# --- the lead page's engagement card -----------------------------------------------------------
def test_lead_page_shows_the_engagement_card_with_its_breaches(rep):
    campaign = CampaignFactory(first_response_sla=SLA, sla_clock="wall")
    lead = answered(campaign, rep, wall=754, business=300, inbound_count=4, outbound_count=3,
                    last_response_seconds=90, sla_breached_at=timezone.now())  # fmt: skip
    breach(lead)
    page = logged_in(rep).get(reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])).content.decode()
    card = page[page.index('id="wl-engagement"') :].split("</fieldset>")[0]
    assert "12 min" in card and "5 min" in card and "1 min 30 s" in card
    assert "4 from them, 3 from us" in card
    assert "Answered late" in card and "10 min (wall) missed by asha_rep" in card


# --- a rep's own numbers page -------------------------------------------------------------------
MY_NUMBERS = "admin:whatsapp_leads_my_numbers"


def test_a_rep_sees_their_own_numbers_and_never_anyone_elses(loans, rep, other_rep):
    url = reverse(MY_NUMBERS)
    mine = logged_in(rep).get(url)
    assert mine.status_code == 200
    assert mine.context["subject"] == rep
    assert mine.context["figures"].answered == 5  # four in Home loans, one in Other
    assert mine.context["people"] == []
    # Asking for the other rep's figures by URL still shows one's own.
    asked = logged_in(rep).get(url, {"rep": other_rep.pk})
    assert asked.context["subject"] == rep and asked.context["figures"].answered == 5
    assert "vikram" not in asked.content.decode()
    page = mine.content.decode()
    assert 'id="wl-chart-daily"' in page and 'id="wl-chart-breaches"' in page
    assert mine.context["figures"].unanswered == 2


def test_a_manager_picks_whose_numbers_to_see(loans, manager, rep, other_rep):
    response = logged_in(manager).get(reverse(MY_NUMBERS), {"rep": other_rep.pk})
    assert response.context["subject"] == other_rep
    assert response.context["figures"].answered == 1 and response.context["breach_count"] == 1
    assert {p.username for p in response.context["people"]} == {"asha_rep", "vikram_rep"}
    assert 'name="rep"' in response.content.decode()
    unknown = logged_in(manager).get(reverse(MY_NUMBERS), {"rep": "999999"})
    assert unknown.context["subject"] == manager


def test_a_breach_of_a_lead_since_given_to_someone_else_is_listed_without_that_lead(rep, other_rep):
    campaign = CampaignFactory(first_response_sla=SLA)
    kept = LeadFactory(owner=rep, campaign=campaign, name="Still Mine")
    moved = LeadFactory(owner=other_rep, campaign=campaign, name="Now Vikrams")
    breach(kept, owner=rep)
    breach(moved, owner=rep)
    page = logged_in(rep).get(reverse(MY_NUMBERS)).content.decode()
    assert "Still Mine" in page and "Now Vikrams" not in page and "re-assigned since" in page


def test_my_numbers_ignores_a_bad_range_and_needs_lead_permissions(rep):
    response = logged_in(rep).get(reverse(MY_NUMBERS), {"since": "2025-06-10", "until": "2025-06-01"})
    assert "since is after until" in response.content.decode()
    assert logged_in(rep).get(reverse(MY_NUMBERS), {"since": "nope"}).status_code == 200
    assert logged_in(staff()).get(reverse(MY_NUMBERS)).status_code == 403


def test_my_numbers_costs_the_same_queries_for_few_or_many_leads(rep):
    campaign = CampaignFactory(first_response_sla=SLA)
    client = logged_in(rep)
    answered(campaign, rep, wall=60)
    few = count_queries(client, reverse(MY_NUMBERS))
    for n in range(30):
        lead = answered(CampaignFactory(first_response_sla=SLA), rep, wall=60 * n)
        breach(lead)
        unanswered(campaign, rep, waited=timedelta(minutes=n), due_in=timedelta(minutes=5 - n))
    assert count_queries(client, reverse(MY_NUMBERS)) == few
