"""Daily spend per ad from the Marketing API insights (a fake Graph API over real HTTP): paginated,
throttled like Meta throttles, upserted by (ad, day), by command and by beat job."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.support.factories import AdFactory, CampaignFactory
from tests.support.fake_graph import FakeClock, business_usage, rate_limited
from whatsapp_leads.graph import GraphClient
from whatsapp_leads.models import AdSpend
from whatsapp_leads.services.spend import scheduled_sync, sync_spend

pytestmark = pytest.mark.django_db
ACCOUNT = "act_1234567890"
CONVERSATIONS = "onsite_conversion.messaging_conversation_started_7d"


def insight(fake, *, ad_id: str, day: str, spend: str, campaign_id: str = "120200000000001", **extra) -> None:
    fake.add_insight(
        ACCOUNT, ad_id=ad_id, date_start=day, campaign_id=campaign_id, account_currency="INR",
        spend=spend, impressions="48211", clicks="611",
        actions=[{"action_type": "onsite_conversion.messaging_first_reply", "value": "9"},
                 {"action_type": CONVERSATIONS, "value": "57"}], **extra,
    )  # fmt: skip


def test_every_page_of_insights_is_stored_per_ad_and_day_linked_to_our_rows(fake_graph):
    campaign = CampaignFactory(meta_id="120200000000001")
    ad = AdFactory(meta_id="120226305854810726", campaign=campaign)
    for n in range(1, 6):  # five rows, two per page
        insight(fake_graph, ad_id=ad.meta_id, day=f"2026-10-0{n}", spend=f"{n}00.37")

    report = sync_spend([ACCOUNT], since=date(2026, 10, 1), until=date(2026, 10, 31))

    assert report.created == 5 and report.errors == {}
    assert report.spend == {"INR": Decimal("1501.85")}
    assert len(fake_graph.requests_to("/insights")) == 3
    first = fake_graph.requests_to("/insights")[0].query
    assert (first["level"], first["time_increment"]) == ("ad", "1")
    assert json.loads(first["time_range"]) == {"since": "2026-10-01", "until": "2026-10-31"}
    assert {"ad_id", "campaign_id", "spend", "impressions", "clicks", "actions"} <= set(
        first["fields"].split(",")
    )
    row = AdSpend.objects.get(date=date(2026, 10, 3))
    assert (row.ad, row.campaign, row.spend, row.currency) == (ad, campaign, Decimal("300.37"), "INR")
    assert (row.impressions, row.clicks, row.conversations) == (48211, 611, 57)


def test_rate_limits_are_waited_out_and_the_sync_finishes(fake_graph):
    for n in range(1, 4):
        insight(fake_graph, ad_id="9001", day=f"2026-10-0{n}", spend="10")
    fake_graph.queue("/insights", rate_limited(80004, headers=business_usage(regain_minutes=1)))
    clock = FakeClock()
    client = GraphClient.from_settings(api="marketing", sleep=clock.sleep, clock=clock)

    report = sync_spend([ACCOUNT], since=date(2026, 10, 1), until=date(2026, 10, 3), client=client)

    assert report.errors == {} and AdSpend.objects.count() == 3
    assert clock.sleeps and max(clock.sleeps) >= 60  # Meta's "regain access in 1 minute"


def test_a_second_run_updates_restated_days_instead_of_adding_rows(fake_graph):
    insight(fake_graph, ad_id="9001", day="2026-10-01", spend="10")
    sync_spend([ACCOUNT], since=date(2026, 10, 1), until=date(2026, 10, 1))
    fake_graph.insights[ACCOUNT][0]["spend"] = "12.50"

    report = sync_spend([ACCOUNT], since=date(2026, 10, 1), until=date(2026, 10, 1))

    assert (report.created, report.updated) == (0, 1)
    assert AdSpend.objects.get().spend == Decimal("12.50")


def test_rows_without_actions_or_with_odd_numbers_count_as_zero(fake_graph):
    fake_graph.add_insight(ACCOUNT, ad_id="9001", date_start="2026-10-01", spend="NaN", impressions="")
    fake_graph.add_insight(ACCOUNT, ad_id="", date_start="2026-10-01", spend="5")  # no ad: skipped
    fake_graph.add_insight(ACCOUNT, ad_id="9002", date_start="not a day", spend="5")  # skipped

    sync_spend([ACCOUNT], since=date(2026, 10, 1), until=date(2026, 10, 1))

    row = AdSpend.objects.get()
    assert (row.spend, row.impressions, row.conversations, row.ad) == (Decimal("0"), 0, 0, None)


def test_the_command_prints_progress_and_a_summary(fake_graph):
    insight(fake_graph, ad_id="9001", day="2026-10-01", spend="1520.37")
    out, err = StringIO(), StringIO()

    call_command("whatsapp_sync_spend", "--account", ACCOUNT, "--since", "2026-10-01", "--until", "2026-10-02",
                 stdout=out, stderr=err)  # fmt: skip

    assert f"[1/1] {ACCOUNT}: 1 ad-days read" in err.getvalue()
    assert "Read spend 2026-10-01 to 2026-10-02 of 1 of 1 ad account(s)." in out.getvalue()
    assert "ad-days: 1 new, 0 updated" in out.getvalue()
    assert "spend: 1520.37 INR" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "is not a date"),
        (["--since", "2026-10-05", "--until", "2026-10-01"], "is after"),
    ],
)
def test_the_command_refuses_bad_dates_by_name(fake_graph, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("whatsapp_sync_spend", "--account", ACCOUNT, *args, stdout=StringIO(), stderr=StringIO())


def test_the_command_fails_when_an_account_cannot_be_read(fake_graph):
    fake_graph.token_expired = True
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 ad account"):
        call_command("whatsapp_sync_spend", "--account", ACCOUNT, stdout=StringIO(), stderr=err)
    assert "Session has expired" in err.getvalue()


def test_the_beat_job_reads_configured_accounts_and_is_a_no_op_without_a_token(fake_graph, settings):
    insight(fake_graph, ad_id="9001", day=date.today().isoformat(), spend="3")
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_AD_ACCOUNT_IDS": [ACCOUNT]}
    assert scheduled_sync()["rows_created"] == 1

    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_ACCESS_TOKEN": ""}
    assert scheduled_sync() == {"skipped": "no access token"}
