"""Spend beside leads: cost per lead, won, cost per won lead, revenue and ROAS per campaign and per ad
over a date range, in the API and on the numbers page, with nothing divided by zero."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.support.factories import AdFactory, CampaignFactory, LeadFactory
from tests.support.people import LEAD_PERMS, staff
from whatsapp_leads.models import AdSpend, Lead
from whatsapp_leads.templatetags.whatsapp_leads_charts import spend_leads_chart

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture(autouse=True)
def business_day(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Kolkata"}


def at(day: str, hhmm: str = "12:00") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm)).replace(tzinfo=IST)


def lead(campaign, *, ad=None, status="new", value=None, when="2026-10-02", hhmm="12:00", **extra) -> Lead:
    row = LeadFactory(campaign=campaign, ad=ad, status=status, deal_value=value, **extra)
    Lead.objects.filter(pk=row.pk).update(created_at=at(when, hhmm))
    return row


def spent(ad, day: str, amount: str, *, currency: str = "INR") -> AdSpend:
    return AdSpend.objects.create(
        ad_meta_id=ad.meta_id, ad=ad, campaign=ad.campaign, campaign_meta_id=ad.campaign.meta_id or "",
        date=date.fromisoformat(day), spend=Decimal(amount), currency=currency, synced_at=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def diwali():
    """Two ads: A spent 1000 over two days and brought 4 leads (2 won, 30000 + 20000); B spent 500, no lead."""
    campaign = CampaignFactory(name="Diwali", meta_id="120200000000001")
    a = AdFactory(meta_id="9001", name="Diwali A", campaign=campaign)
    b = AdFactory(meta_id="9002", name="Diwali B", campaign=campaign)
    spent(a, "2026-10-01", "400")
    spent(a, "2026-10-02", "600")
    spent(b, "2026-10-02", "500")
    spent(a, "2026-09-15", "9999")  # outside the range
    lead(campaign, ad=a, status="won", value=Decimal("30000"), when="2026-10-01", country="IN", city="Pune")
    lead(
        campaign,
        ad=a,
        status="won",
        value=Decimal("20000"),
        when="2026-10-02",
        hhmm="23:59",
        country="IN",
        city="Pune",
    )
    lead(campaign, ad=a, status="qualified", when="2026-10-02", country="IN", city="Mumbai")
    lead(campaign, ad=a, status="lost", when="2026-10-02", country="AE")
    lead(
        campaign, ad=a, status="won", value=Decimal("77777"), when="2026-10-03", hhmm="00:01"
    )  # the next day
    lead(campaign, status="new", when="2026-10-01")  # organic, claimed by keywords
    return campaign


def numbers(campaign, **params):
    user = staff(*LEAD_PERMS, "view_all_leads", "view_campaign", username="meera")
    client = APIClient()
    client.force_authenticate(user)
    return client.get(reverse("whatsapp_leads:campaign-numbers", args=[campaign.pk]), params)


def test_the_api_gives_cost_per_lead_won_revenue_and_roas_over_the_range(diwali):
    response = numbers(diwali, since="2026-10-01", until="2026-10-02")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in ("spend", "leads", "cost_per_lead", "qualified", "won", "cost_per_won", "revenue", "roas")} == {
        "spend": "1500.00", "leads": 5, "cost_per_lead": "300.00", "qualified": 3, "won": 2,
        "cost_per_won": "750.00", "revenue": "50000.00", "roas": 33.3333,
    }  # fmt: skip
    assert (body["since"], body["until"], body["currency"], body["total"]) == (
        "2026-10-01",
        "2026-10-02",
        "INR",
        5,
    )
    ads = {row["meta_id"]: row for row in body["per_ad"]}
    assert ads["9001"]["name"] == "Diwali A"
    assert (ads["9001"]["spend"], ads["9001"]["leads"], ads["9001"]["cost_per_lead"]) == (
        "1000.00",
        4,
        "250.00",
    )
    assert (ads["9001"]["cost_per_won"], ads["9001"]["roas"]) == ("500.00", 50.0)
    assert (ads["9002"]["leads"], ads["9002"]["cost_per_lead"], ads["9002"]["cost_per_won"]) == (
        0,
        None,
        None,
    )
    assert ads["9002"]["roas"] == 0.0
    assert (ads[""]["spend"], ads[""]["leads"], ads[""]["cost_per_lead"], ads[""]["roas"]) == (
        "0.00",
        1,
        "0.00",
        None,
    )
    assert body["spend_per_day"] == [
        {"day": "2026-10-01", "spend": "400.00", "leads": 2},
        {"day": "2026-10-02", "spend": "1100.00", "leads": 3},
    ]
    assert body["by_country"] == [
        {"country": "IN", "leads": 3},
        {"country": "", "leads": 1},
        {"country": "AE", "leads": 1},
    ]
    assert body["by_city"] == [
        {"country": "IN", "city": "Pune", "leads": 2},
        {"country": "IN", "city": "Mumbai", "leads": 1},
    ]


def test_a_range_with_no_spend_and_no_leads_is_null_where_undefined(diwali):
    body = numbers(diwali, since="2027-01-01", until="2027-01-03").json()

    assert {k: body[k] for k in ("spend", "leads", "cost_per_lead", "won", "cost_per_won", "revenue", "roas")} == {
        "spend": "0.00", "leads": 0, "cost_per_lead": None, "won": 0, "cost_per_won": None,
        "revenue": "0.00", "roas": None,
    }  # fmt: skip
    assert body["per_ad"] == [] and body["currency"] == ""
    assert [d["spend"] for d in body["spend_per_day"]] == ["0.00", "0.00", "0.00"]


def test_without_a_range_every_lead_and_every_day_of_spend_counts(diwali):
    body = numbers(diwali).json()
    assert (body["spend"], body["leads"], body["won"], body["revenue"]) == ("11499.00", 6, 3, "127777.00")
    assert body["since"] is None and body["until"] is None


@pytest.mark.parametrize(
    ("params", "field"), [({"since": "2026-10-05", "until": "2026-10-01"}, "since"), ({"since": "yesterday"}, "since"),
                          ({"until": "2026-13-01"}, "until")],
)  # fmt: skip
def test_a_bad_range_is_a_400_naming_the_parameter(diwali, params, field):
    response = numbers(diwali, **params)
    assert response.status_code == 400
    assert field in response.json()


def test_several_ad_account_currencies_are_reported_as_mixed(diwali):
    spent(AdFactory(meta_id="9003", campaign=diwali), "2026-10-01", "10", currency="USD")
    assert numbers(diwali, since="2026-10-01", until="2026-10-02").json()["currency"] == "mixed"


def page(campaign, *, client: Client | None = None, **params):
    if client is None:
        client = Client()
        client.force_login(staff(*LEAD_PERMS, "view_all_leads", "view_campaign", username="meera"))
    return client.get(reverse("admin:whatsapp_leads_campaign_numbers", args=[campaign.pk]), params)


def test_the_numbers_page_shows_cost_roas_per_ad_a_chart_and_places(diwali):
    html = page(diwali, since="2026-10-01", until="2026-10-02").content.decode()

    assert "1,500.00 INR" in html and "33.33" in html and "750.00" in html
    assert "Diwali A" in html and "Diwali B" in html
    assert html.count('class="wl-spend"') == 2  # one bar per day of the range
    assert "01 Oct 2026: spend 400.00 INR, 2 leads" in html
    assert "Pune" in html and "AE" in html


def test_the_numbers_page_explains_a_bad_date_and_ignores_it(diwali):
    html = page(diwali, since="soon").content.decode()
    assert "is not a date (YYYY-MM-DD); ignored." in html


def test_the_numbers_page_costs_the_same_queries_for_one_ad_or_many(diwali):
    client = Client()
    client.force_login(staff(*LEAD_PERMS, "view_all_leads", "view_campaign", username="meera"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert page(diwali, client=client, since="2026-09-01", until="2026-10-31").status_code == 200
        return len(queries)

    few = count()
    assert few <= 21  # the numbers, the money figures (5), the free entry points (2), response times (5)
    for n in range(20):
        ad = AdFactory(meta_id=f"98{n:03d}", campaign=diwali)
        spent(ad, "2026-10-01", "5")
        for _ in range(3):
            lead(
                diwali,
                ad=ad,
                status="won",
                value=Decimal("1"),
                when="2026-10-01",
                country="IN",
                city=f"City {n}",
            )
    assert count() == few


def test_the_chart_escapes_what_it_draws_and_draws_nothing_for_no_days():
    svg = spend_leads_chart([(date(2026, 10, 1), Decimal("5"), 1)], "<b>")
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert spend_leads_chart([], "INR") == ""
