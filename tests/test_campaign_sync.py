"""Campaigns from Meta: the lookup of a newly seen ad, and the sync of whole ad accounts (issue 4).

Everything talks HTTP to the fake Graph API in tests/fake_graph.py; webhooks go through the real
processing service; tasks run through Celery's own ``run``/``apply``.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from bharatcrm.celery import app as celery_app
from tests.support.brokers import broker_down
from tests.support.factories import (
    AdFactory,
    CampaignFactory,
    CampaignMemberFactory,
    LeadFactory,
    UserFactory,
)
from tests.support.fake_graph import (
    FakeClock,
    FakeGraph,
    business_usage,
    point_settings_at,
    rate_limited,
    server_error,
    unknown_object,
)
from tests.support.world import AD_ID
from whatsapp_leads.graph import GraphClient
from whatsapp_leads.models import Ad, AdSet, Campaign, Lead, LeadAssignment, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.services import campaign_sync
from whatsapp_leads.services.processing import process_event
from whatsapp_leads.tasks import lookup_ad, sync_campaigns

CAMPAIGN_ID = "120226305854800001"
ADSET_ID = "120226305854800101"

pytestmark = pytest.mark.django_db


def build_world(fake: FakeGraph) -> None:
    """Two ad accounts; some ad sets send people to WhatsApp, others to Messenger or Instagram."""
    fake.add_campaign(CAMPAIGN_ID, name="Home loans – Diwali", account="act_1001")
    fake.add_campaign(
        "120226305854800002", name="Brand awareness", account="act_1001", objective="OUTCOME_AWARENESS"
    )
    fake.add_adset(ADSET_ID, name="Mumbai 25-45", campaign_id=CAMPAIGN_ID, account="act_1001")
    fake.add_adset("120226305854800102", name="Pune 25-45", campaign_id=CAMPAIGN_ID, account="act_1001")
    fake.add_adset("120226305854800103", name="Reels", campaign_id="120226305854800002", account="act_1001",
                   destination_type="INSTAGRAM_DIRECT")  # fmt: skip
    fake.add_adset("120226305854800104", name="Messenger test", campaign_id=CAMPAIGN_ID, account="act_1001",
                   destination_type="MESSENGER")  # fmt: skip
    fake.add_adset("120226305854800105", name="Delhi NCR", campaign_id=CAMPAIGN_ID, account="act_1001")
    fake.add_ad(AD_ID, name="Loan carousel v2", adset_id=ADSET_ID, account="act_1001")
    fake.add_ad("120226305854810727", name="Loan video", adset_id=ADSET_ID, account="act_1001")
    fake.add_ad("120226305854810728", name="Pune static", adset_id="120226305854800102", account="act_1001")
    fake.add_ad("120226305854810729", name="Reel 1", adset_id="120226305854800103", account="act_1001")
    fake.add_ad("120226305854810730", name="Delhi static", adset_id="120226305854800105", account="act_1001")
    fake.add_campaign("120226305854800003", name="Car loans", account="act_2002", objective="OUTCOME_LEADS")
    fake.add_adset(
        "120226305854800106", name="Bengaluru", campaign_id="120226305854800003", account="act_2002"
    )
    fake.add_adset("120226305854800107", name="Bengaluru Messenger", campaign_id="120226305854800003",
                   account="act_2002", destination_type="MESSENGER")  # fmt: skip
    fake.add_ad(
        "120226305854810731", name="Car loan static", adset_id="120226305854800106", account="act_2002"
    )
    fake.add_ad("120226305854810732", name="Car loan chat", adset_id="120226305854800107", account="act_2002")


@pytest.fixture
def graph(fake_graph):
    build_world(fake_graph)
    return fake_graph


def receive_ad_click(ad_id: str = AD_ID, *, wa_id: str = "919876543210") -> Lead:
    """A WhatsApp message from an ad click, stored and processed like any webhook."""
    event = WebhookEvent.objects.create(body=dumps(inbound(ad_id=ad_id, wa_id=wa_id, name="Asha Verma")))
    assert process_event(event.pk).status == "processed"
    return Lead.objects.get(wa_id=wa_id)


def test_an_unseen_ad_queues_its_lookup_after_the_lead_commits(
    graph, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = receive_ad_click()

    assert lead.ad.meta_id == AD_ID
    assert ("whatsapp_leads.lookup_ad", (AD_ID,)) in broker()
    assert graph.requests == []  # nothing was asked of Meta while the lead was being stored


def test_a_known_ad_queues_no_second_lookup(graph, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        receive_ad_click(wa_id="919876543210")
    broker()
    with django_capture_on_commit_callbacks(execute=True):
        receive_ad_click(wa_id="919812345678")

    assert [m for m in broker() if m[0] == "whatsapp_leads.lookup_ad"] == []


def test_a_broker_outage_never_blocks_the_lead(graph, django_capture_on_commit_callbacks, caplog):
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        lead = receive_ad_click()

    assert Lead.objects.filter(pk=lead.pk, ad__meta_id=AD_ID).exists()
    assert f"could not queue the lookup of ad {AD_ID}" in caplog.text
    assert Ad.objects.get(meta_id=AD_ID).looked_up_at is None  # left for the hourly sync to queue again


def test_no_lookup_is_queued_without_a_token(settings, broker, django_capture_on_commit_callbacks):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_ACCESS_TOKEN": "", "ACCESS_TOKEN": ""}

    with django_capture_on_commit_callbacks(execute=True):
        lead = receive_ad_click()

    assert lead.ad is not None
    assert broker() == []


# --- the lookup task ---------------------------------------------------------------------------


def test_lookup_fills_the_ad_its_adset_and_campaign_and_gives_the_lead_its_campaign(graph):
    lead = receive_ad_click()
    assert lead.campaign is None and lead.ad.name == ""

    assert lookup_ad.run(AD_ID) == "found"

    ad = Ad.objects.select_related("adset__campaign", "campaign").get(meta_id=AD_ID)
    assert ad.name == "Loan carousel v2"
    assert (ad.adset.meta_id, ad.adset.name) == (ADSET_ID, "Mumbai 25-45")
    assert (ad.campaign.meta_id, ad.campaign.name) == (CAMPAIGN_ID, "Home loans – Diwali")
    assert ad.adset.campaign == ad.campaign
    assert ad.lookup_error == "" and ad.looked_up_at is not None
    lead.refresh_from_db()
    assert lead.campaign == ad.campaign
    (request,) = graph.requests
    assert request.path == f"/{graph.version}/{AD_ID}"
    assert request.query["fields"] == "name,adset{id,name},campaign{id,name}"


def test_lookup_links_an_existing_campaign_and_never_reassigns_the_lead(graph, settings):
    fallback = UserFactory(username="fallback")
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DEFAULT_OWNER": "fallback"}
    campaign = CampaignFactory(meta_id=CAMPAIGN_ID, name="Diwali (named by hand)")
    CampaignMemberFactory(campaign=campaign)
    lead = receive_ad_click()
    assert lead.owner == fallback  # no campaign was known when the lead arrived

    lookup_ad.run(AD_ID)

    lead.refresh_from_db()
    assert lead.campaign == campaign
    assert lead.owner == fallback
    assert LeadAssignment.objects.filter(lead=lead).count() == 1
    assert Campaign.objects.filter(meta_id=CAMPAIGN_ID).count() == 1
    campaign.refresh_from_db()
    assert campaign.name == "Home loans – Diwali"  # Meta's name wins for Meta's campaigns


def test_an_unknown_ad_is_recorded_on_the_ad_and_not_retried(graph):
    receive_ad_click(ad_id="120226305854899999")

    assert lookup_ad.apply(args=("120226305854899999",)).result == "unknown"

    ad = Ad.objects.get(meta_id="120226305854899999")
    assert "Graph API error 100/33 (GraphMethodException)" in ad.lookup_error
    assert "does not exist" in ad.lookup_error
    assert ad.name == "" and ad.campaign is None
    assert len(graph.requests) == 1


def test_a_rate_limited_lookup_is_retried_by_the_task_then_succeeds(graph):
    receive_ad_click()
    graph.queue(AD_ID, rate_limited(613), rate_limited(80004))

    assert lookup_ad.apply(args=(AD_ID,)).result == "found"

    assert len(graph.requests) == 3
    ad = Ad.objects.get(meta_id=AD_ID)
    assert ad.name == "Loan carousel v2"
    assert ad.lookup_error == ""


def test_lookup_retries_are_bounded_and_the_last_error_stays_on_the_ad(graph):
    receive_ad_click()
    graph.queue(AD_ID, *[server_error(500) for _ in range(20)])

    assert lookup_ad.apply(args=(AD_ID,)).result == "failed"

    assert len(graph.requests) == campaign_sync.LOOKUP_MAX_RETRIES + 1
    ad = Ad.objects.get(meta_id=AD_ID)
    assert "An unexpected error has occurred" in ad.lookup_error
    assert f"gave up after {campaign_sync.LOOKUP_MAX_RETRIES + 1} attempts" in ad.lookup_error


def test_a_retry_waits_as_long_as_meta_asked_when_that_is_longer_than_the_backoff(graph):
    receive_ad_click()
    graph.queue(AD_ID, rate_limited(80004, headers=business_usage(regain_minutes=30)))

    outcome = campaign_sync.lookup_ad(AD_ID, attempt=0)

    assert (outcome.status, outcome.retry_in) == ("retry", 1800)
    assert "retrying in 1800s" in Ad.objects.get(meta_id=AD_ID).lookup_error


def test_an_expired_token_is_recorded_and_not_retried(graph):
    receive_ad_click()
    graph.token_expired = True

    assert lookup_ad.apply(args=(AD_ID,)).result == "failed"

    assert "190/463 (OAuthException)" in Ad.objects.get(meta_id=AD_ID).lookup_error
    assert len(graph.requests) == 1


def test_lookup_without_a_token_records_which_setting_is_missing(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_ACCESS_TOKEN": "", "ACCESS_TOKEN": ""}
    receive_ad_click()

    assert lookup_ad.run(AD_ID) == "not_configured"

    ad = Ad.objects.get(meta_id=AD_ID)
    assert "META_ACCESS_TOKEN" in ad.lookup_error
    assert (
        ad.looked_up_at is None
    )  # still counts as never asked: the hourly sync queues it once a token is set


# --- syncing ad accounts -------------------------------------------------------------------------


def run_sync(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("whatsapp_sync_campaigns", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_stores_only_click_to_whatsapp_adsets_with_their_campaigns_and_ads(graph, settings):
    point_settings_at(settings, graph, META_AD_ACCOUNT_IDS=["act_1001", "2002"])

    out, err = run_sync()

    assert set(Campaign.objects.values_list("name", flat=True)) == {"Home loans – Diwali", "Car loans"}
    assert set(AdSet.objects.values_list("name", flat=True)) == {
        "Mumbai 25-45",
        "Pune 25-45",
        "Delhi NCR",
        "Bengaluru",
    }
    assert set(AdSet.objects.values_list("destination_type", flat=True)) == {"WHATSAPP"}
    assert set(Ad.objects.values_list("name", flat=True)) == {
        "Loan carousel v2", "Loan video", "Pune static", "Delhi static", "Car loan static",
    }  # fmt: skip
    car = Campaign.objects.get(name="Car loans")
    assert (car.objective, car.status, car.account_id) == ("OUTCOME_LEADS", "ACTIVE", "act_2002")
    ad = Ad.objects.select_related("adset", "campaign").get(meta_id=AD_ID)
    assert (ad.adset.meta_id, ad.campaign.meta_id, ad.account_id) == (ADSET_ID, CAMPAIGN_ID, "act_1001")
    assert "campaigns: 2 created, 0 updated, 0 unchanged" in out
    assert "ad sets:   4 created, 0 updated, 0 unchanged (3 not Click-to-WhatsApp, skipped)" in out
    assert "ads:       5 created, 0 updated, 0 unchanged" in out
    assert "[1/2] act_1001: ad sets: 5 read, 3 Click-to-WhatsApp" in err
    assert "[2/2] act_2002: ads: 2 read, 1 in those ad sets" in err
    assert len(graph.requests_to("act_1001/adsets")) == 3  # paginated: 5 ad sets, 2 a page


def test_rerunning_the_sync_updates_rows_without_duplicating_them(graph, settings):
    point_settings_at(settings, graph, META_AD_ACCOUNT_IDS=["act_1001", "act_2002"])
    run_sync()
    graph.objects[CAMPAIGN_ID]["name"] = "Home loans – Diwali (extended)"
    graph.objects["120226305854800102"]["status"] = "PAUSED"
    graph.objects[AD_ID]["name"] = "Loan carousel v3"

    out, _ = run_sync()

    assert (Campaign.objects.count(), AdSet.objects.count(), Ad.objects.count()) == (2, 4, 5)
    assert Campaign.objects.get(meta_id=CAMPAIGN_ID).name == "Home loans – Diwali (extended)"
    assert AdSet.objects.get(meta_id="120226305854800102").status == "PAUSED"
    assert Ad.objects.get(meta_id=AD_ID).name == "Loan carousel v3"
    assert "campaigns: 0 created, 1 updated, 1 unchanged" in out
    assert "ad sets:   0 created, 1 updated, 3 unchanged" in out
    assert "ads:       0 created, 1 updated, 4 unchanged" in out


def test_sync_fills_ads_first_seen_in_webhooks_and_their_leads_campaign_without_reassigning(graph):
    lead = LeadFactory(ad=AdFactory(meta_id=AD_ID, name="", campaign=None), owner=UserFactory())
    owner = lead.owner

    out, _ = run_sync("--account", "act_1001")

    lead.refresh_from_db()
    assert lead.ad.name == "Loan carousel v2"
    assert lead.campaign.meta_id == CAMPAIGN_ID
    assert lead.owner == owner
    assert "ads:       3 created, 1 updated, 0 unchanged" in out
    assert "leads given their campaign: 1" in out


def test_the_account_option_syncs_only_that_account(graph, settings):
    point_settings_at(settings, graph, META_AD_ACCOUNT_IDS=["act_1001", "act_2002"])

    run_sync("--account", "2002")

    assert list(Campaign.objects.values_list("name", flat=True)) == ["Car loans"]
    assert graph.requests_to("act_1001") == []


def test_a_failing_account_is_reported_while_the_others_still_sync(graph, settings):
    point_settings_at(settings, graph, META_AD_ACCOUNT_IDS=["act_3003", "act_2002"])
    graph.queue("act_3003/adsets", unknown_object("act_3003"))
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 of 2 ad account"):
        call_command("whatsapp_sync_campaigns", stdout=out, stderr=err)

    assert Campaign.objects.filter(name="Car loans").exists()
    assert "act_3003: Graph API error 100/33" in err.getvalue()
    assert "Synced 1 of 2 ad account(s)." in out.getvalue()


def test_sync_rides_out_a_rate_limit_in_the_middle_of_paging(graph):
    graph.queue("act_1001/ads", rate_limited(17))
    clock = FakeClock()
    client = GraphClient(graph.token, base_url=graph.base_url, sleep=clock.sleep, clock=clock)

    report = campaign_sync.sync_accounts(["act_1001"], client=client)

    assert report.errors == {}
    assert Ad.objects.count() == 4
    assert clock.sleeps == [1.0]


def test_sync_without_a_token_says_which_setting_to_set(graph, settings):
    point_settings_at(
        settings, graph, META_ACCESS_TOKEN="", ACCESS_TOKEN="", META_AD_ACCOUNT_IDS=["act_1001"]
    )

    with pytest.raises(CommandError, match="META_ACCESS_TOKEN"):
        run_sync()

    assert graph.requests == []


def test_sync_without_accounts_says_which_setting_to_set(graph):
    with pytest.raises(CommandError, match="META_AD_ACCOUNT_IDS"):
        run_sync()


def test_a_malformed_account_id_is_refused_before_calling_meta(graph):
    with pytest.raises(CommandError, match="act_<digits>"):
        run_sync("--account", "my-account")

    assert graph.requests == []


# --- the beat job ------------------------------------------------------------------------------


def test_the_beat_schedule_runs_the_sync_hourly():
    entries = [e for e in celery_app.conf.beat_schedule.values() if e["task"] == sync_campaigns.name]
    assert [e["schedule"] for e in entries] == [3600.0]
    assert sync_campaigns.name in celery_app.tasks


def test_the_beat_sync_is_a_logged_no_op_without_a_token(graph, settings, caplog):
    point_settings_at(
        settings, graph, META_ACCESS_TOKEN="", ACCESS_TOKEN="", META_AD_ACCOUNT_IDS=["act_1001"]
    )

    with caplog.at_level(logging.INFO, logger="whatsapp_leads"):
        assert sync_campaigns() == {"skipped": "no access token"}

    assert "META_ACCESS_TOKEN" in caplog.text
    assert graph.requests == []
    assert Campaign.objects.count() == 0


def test_the_beat_sync_is_a_logged_no_op_without_accounts(graph, caplog):
    with caplog.at_level(logging.INFO, logger="whatsapp_leads"):
        assert sync_campaigns()["skipped"] == "no ad accounts"

    assert "META_AD_ACCOUNT_IDS" in caplog.text
    assert graph.requests == []


def test_the_beat_sync_syncs_the_configured_accounts(graph, settings):
    point_settings_at(settings, graph, META_AD_ACCOUNT_IDS="act_1001,act_2002")  # as from the environment

    summary = sync_campaigns()

    assert summary["accounts"] == 2 and summary["errors"] == {}
    assert (Campaign.objects.count(), AdSet.objects.count(), Ad.objects.count()) == (2, 4, 5)


def test_the_beat_sync_queues_lookups_that_never_ran(graph, broker):
    lost = AdFactory(meta_id="120226305854810799", name="", campaign=None)
    Ad.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    AdFactory(
        meta_id="120226305854810798", name="", campaign=None
    )  # just created: its own lookup may be queued

    sync_campaigns()

    assert [m for m in broker() if m[0] == "whatsapp_leads.lookup_ad"] == [
        ("whatsapp_leads.lookup_ad", ("120226305854810799",))
    ]


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_lookups_of_ads_sharing_a_new_campaign_create_it_once(graph):
    ad_ids = [AD_ID, "120226305854810727", "120226305854810728", "120226305854810730"]
    for ad_id in ad_ids:
        AdFactory(meta_id=ad_id, name="", campaign=None)
    start = threading.Barrier(len(ad_ids))
    outcomes: dict[str, str] = {}

    def look_up(ad_id: str) -> None:
        try:
            start.wait()
            outcomes[ad_id] = campaign_sync.lookup_ad(ad_id).status
        finally:
            connection.close()

    threads = [threading.Thread(target=look_up, args=(ad_id,)) for ad_id in ad_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes == dict.fromkeys(ad_ids, "found")
    assert Campaign.objects.filter(meta_id=CAMPAIGN_ID).count() == 1
    assert set(Ad.objects.values_list("campaign__meta_id", flat=True)) == {CAMPAIGN_ID}
