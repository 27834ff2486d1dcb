"""The Graph API client against a fake Graph API over real HTTP: auth, paging, retries, throttling, errors."""

from __future__ import annotations

import json
import socket

import pytest

from tests.support.fake_graph import (
    FakeClock,
    Reply,
    business_usage,
    ok,
    point_settings_at,
    rate_limited,
    server_error,
    unavailable_html,
)
from tests.support.world import AD_ID
from whatsapp_leads.graph import GraphAPIError, GraphClient, GraphNotConfigured
from whatsapp_leads.graph.marketing import ad_set_pages, fetch_ad


@pytest.fixture
def graph(fake_graph):
    fake_graph.add_campaign("120226305854800001", name="Home loans – Diwali", account="act_1001")
    fake_graph.add_adset(
        "120226305854800101", name="Mumbai 25-45", campaign_id="120226305854800001", account="act_1001"
    )
    fake_graph.add_ad(AD_ID, name="Loan carousel v2", adset_id="120226305854800101", account="act_1001")
    return fake_graph


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def client(graph, clock):
    with GraphClient(
        graph.token, base_url=graph.base_url, version=graph.version, sleep=clock.sleep, clock=clock
    ) as c:
        yield c


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- talking to the API ------------------------------------------------------------------------


def test_get_sends_the_bearer_token_to_the_versioned_path_and_returns_metas_json(graph, client):
    body = client.get(AD_ID, params={"fields": "name,adset{id,name},campaign{id,name}"})

    assert body == {
        "id": AD_ID,
        "name": "Loan carousel v2",
        "adset": {"id": "120226305854800101", "name": "Mumbai 25-45"},
        "campaign": {"id": "120226305854800001", "name": "Home loans – Diwali"},
    }
    (seen,) = graph.requests
    assert seen.path == f"/{graph.version}/{AD_ID}"
    assert seen.headers["Authorization"] == f"Bearer {graph.token}"
    assert "access_token" not in seen.query  # the token travels in the header, not the URL


def test_from_settings_uses_configured_url_version_and_meta_token(graph, settings):
    graph.version = "v26.0"
    point_settings_at(settings, graph)

    info = fetch_ad(AD_ID, client=GraphClient.from_settings())

    assert info.name == "Loan carousel v2"
    assert graph.requests[0].path == f"/v26.0/{AD_ID}"


def test_cloud_api_token_is_used_when_no_marketing_token_is_set(graph, settings):
    point_settings_at(settings, graph, META_ACCESS_TOKEN="", ACCESS_TOKEN=graph.token)

    assert GraphClient.from_settings().get(AD_ID)["id"] == AD_ID
    assert graph.requests[0].headers["Authorization"] == f"Bearer {graph.token}"


def test_the_marketing_client_uses_marketing_api_version_over_the_graph_version(graph, settings):
    graph.version = "v27.0"
    point_settings_at(settings, graph, META_GRAPH_VERSION="v24.0", MARKETING_API_VERSION="v27.0")

    assert GraphClient.from_settings(api="marketing").get(AD_ID)["id"] == AD_ID
    assert graph.requests[0].path == f"/v27.0/{AD_ID}"


def test_the_cloud_api_client_uses_its_own_version_and_the_whatsapp_token(graph, settings):
    graph.version = "v23.0"
    point_settings_at(
        settings,
        graph,
        META_ACCESS_TOKEN="a-marketing-token-without-whatsapp-permissions",
        ACCESS_TOKEN=graph.token,
        META_GRAPH_VERSION="v27.0",
        CLOUD_API_VERSION="v23.0",
    )

    assert GraphClient.from_settings(api="cloud").get(AD_ID)["id"] == AD_ID
    (seen,) = graph.requests
    assert seen.path == f"/v23.0/{AD_ID}"
    assert seen.headers["Authorization"] == f"Bearer {graph.token}"


def test_the_cloud_api_client_never_falls_back_to_the_marketing_token(graph, settings):
    point_settings_at(settings, graph, META_ACCESS_TOKEN=graph.token, ACCESS_TOKEN="")

    with pytest.raises(GraphNotConfigured, match="WHATSAPP_ACCESS_TOKEN"):
        GraphClient.from_settings(api="cloud")
    assert graph.requests == []


def test_a_client_without_settings_talks_to_the_current_graph_version():
    client = GraphClient("token")
    assert client.url(AD_ID) == f"https://graph.facebook.com/v27.0/{AD_ID}"


def test_no_token_raises_graph_not_configured_naming_the_setting_before_any_request(graph, settings):
    point_settings_at(settings, graph, META_ACCESS_TOKEN="", ACCESS_TOKEN="")

    with pytest.raises(GraphNotConfigured) as caught:
        GraphClient.from_settings()

    assert isinstance(caught.value, GraphAPIError)
    assert "META_ACCESS_TOKEN" in str(caught.value)
    assert caught.value.retryable is False
    assert graph.requests == []


def test_paginate_follows_paging_next_until_the_last_page(client, graph):
    for n in range(5):
        graph.add_adset(f"2000{n}", name=f"Ad set {n}", campaign_id="120226305854800001", account="act_1001")

    pages = list(client.paginate("act_1001/adsets", params={"fields": "id,name", "limit": 100}))

    assert [len(p) for p in pages] == [2, 2, 2]  # 6 ad sets, Meta caps the page at 2
    assert [a["name"] for a in pages[2]] == ["Ad set 3", "Ad set 4"]
    assert graph.requests[0].query.get("after") is None
    assert all(r.query.get("after") for r in graph.requests[1:])  # followed the cursors in paging.next


def test_paginate_refuses_a_next_link_to_another_host_so_the_token_stays_home(client, graph):
    graph.queue(
        "/adsets", ok({"data": [], "paging": {"next": "https://graph.example.net/v25.0/act_1001/adsets"}})
    )

    with pytest.raises(GraphAPIError, match="graph.example.net"):
        list(client.paginate("act_1001/adsets"))

    assert len(graph.requests) == 1


def test_marketing_adset_listing_keeps_destination_type_and_campaign(client, graph):
    graph.add_adset("3001", name="Messenger", campaign_id="120226305854800001", account="act_1001",
                    destination_type="MESSENGER")  # fmt: skip

    adsets = [a for page in ad_set_pages("1001", client=client) for a in page]

    assert [(a.name, a.is_click_to_whatsapp) for a in adsets] == [
        ("Mumbai 25-45", True),
        ("Messenger", False),
    ]
    assert adsets[0].campaign.name == "Home loans – Diwali"
    assert adsets[0].campaign.objective == "OUTCOME_ENGAGEMENT"
    assert graph.requests[0].path == f"/{graph.version}/act_1001/adsets"  # account id normalised to act_<id>


# --- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80004])
def test_rate_limit_codes_are_retried_with_backoff_then_succeed(client, graph, clock, code):
    graph.queue(AD_ID, rate_limited(code))

    assert client.get(AD_ID)["name"] == "Loan carousel v2"

    assert len(graph.requests) == 2
    assert clock.sleeps == [1.0]


def test_server_errors_and_non_json_5xx_are_retried_with_growing_backoff(client, graph, clock):
    graph.queue(AD_ID, server_error(500), unavailable_html())

    assert client.get(AD_ID)["id"] == AD_ID

    assert len(graph.requests) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_retries_are_bounded_and_the_error_names_metas_last_code(graph, clock):
    graph.queue(AD_ID, *[rate_limited(613) for _ in range(10)])
    client = GraphClient(graph.token, base_url=graph.base_url, max_retries=3, sleep=clock.sleep, clock=clock)

    with pytest.raises(GraphAPIError) as caught:
        client.get(AD_ID)

    error = caught.value
    assert (error.code, error.type, error.retryable, error.attempts) == (613, "OAuthException", True, 4)
    assert "(#613) Calls to this api have exceeded the rate limit." in str(error)
    assert len(graph.requests) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_connection_failures_are_retried_and_reported_without_the_token(clock):
    client = GraphClient(
        "secret-token-123",
        base_url=f"http://127.0.0.1:{closed_port()}",
        max_retries=2,
        sleep=clock.sleep,
        clock=clock,
    )

    with pytest.raises(GraphAPIError) as caught:
        client.get(AD_ID, params={"access_token": "secret-token-123"})  # as in Meta's paging links

    assert "could not reach the Graph API" in str(caught.value)
    assert "secret-token-123" not in str(caught.value)
    assert caught.value.retryable is True
    assert clock.sleeps == [1.0, 2.0]


# --- errors that retrying cannot fix -------------------------------------------------------------


def test_expired_token_raises_oauth_error_with_metas_details_and_no_retry(client, graph, clock):
    graph.token_expired = True

    with pytest.raises(GraphAPIError) as caught:
        client.get(AD_ID)

    error = caught.value
    assert (error.code, error.subcode, error.type, error.http_status) == (190, 463, "OAuthException", 400)
    assert error.fbtrace_id.startswith("AQx")
    assert error.retryable is False
    assert "Error validating access token: Session has expired" in str(error)
    assert f"fbtrace_id {error.fbtrace_id}" in str(error)
    assert len(graph.requests) == 1
    assert clock.sleeps == []


def test_unknown_id_raises_code_100_without_retry(client, graph, clock):
    with pytest.raises(GraphAPIError) as caught:
        client.get("999999999999")

    error = caught.value
    assert (error.code, error.subcode, error.type) == (100, 33, "GraphMethodException")
    assert error.unknown_object and not error.retryable
    assert "Object with ID '999999999999' does not exist" in error.message
    assert len(graph.requests) == 1
    assert clock.sleeps == []


def test_an_error_body_without_metas_error_object_still_raises_graph_api_error(client, graph):
    graph.queue(AD_ID, Reply(404, "Not Found", {"Content-Type": "text/plain"}))

    with pytest.raises(GraphAPIError, match="HTTP 404"):
        client.get(AD_ID)


# --- usage headers ----------------------------------------------------------------------------


def test_estimated_time_to_regain_access_is_waited_out_before_retrying(client, graph, clock):
    graph.queue(AD_ID, rate_limited(80004, headers=business_usage(regain_minutes=2)))

    assert client.get(AD_ID)["id"] == AD_ID

    assert clock.sleeps == [120.0]  # Meta's estimate (minutes) beats our 1 s backoff
    assert len(graph.requests) == 2


def test_a_throttle_reporting_full_usage_waits_the_near_limit_pause(client, graph, clock):
    graph.queue(AD_ID, rate_limited(17, headers=business_usage(percent=100, regain_minutes=0)))

    assert client.get(AD_ID)["id"] == AD_ID

    assert clock.sleeps == [60.0]


def test_a_wait_longer_than_the_budget_gives_up_at_once_saying_how_long(client, graph, clock):
    graph.queue(AD_ID, rate_limited(80004, headers=business_usage(regain_minutes=30)))

    with pytest.raises(GraphAPIError) as caught:
        client.get(AD_ID)

    assert caught.value.code == 80004
    assert caught.value.retry_after == 1800.0
    assert clock.sleeps == []
    assert len(graph.requests) == 1


def test_usage_near_the_limit_pauses_before_the_next_call(client, graph, clock):
    busy = {"X-App-Usage": json.dumps({"call_count": 97, "total_time": 40, "total_cputime": 12})}
    graph.queue(AD_ID, ok({"id": AD_ID, "name": "Loan carousel v2"}, busy))

    client.get(AD_ID)
    assert clock.sleeps == []  # the answer itself is fine
    client.get(AD_ID)

    assert clock.sleeps == [60.0]
    assert len(graph.requests) == 2


def test_ad_account_usage_reset_time_sets_the_pause(client, graph, clock):
    busy = {"X-Ad-Account-Usage": json.dumps({"acc_id_util_pct": 99.2, "reset_time_duration": 30})}
    graph.queue(AD_ID, ok({"id": AD_ID}, busy))

    client.get(AD_ID)
    client.get(AD_ID)

    assert clock.sleeps == [30.0]


def test_a_pause_beyond_the_budget_raises_before_calling_meta(client, graph, clock):
    graph.queue(AD_ID, ok({"id": AD_ID}, business_usage(percent=100, regain_minutes=10)))
    client.get(AD_ID)

    with pytest.raises(GraphAPIError) as caught:
        client.get(AD_ID)

    assert caught.value.retryable is True
    assert caught.value.retry_after == 600.0
    assert "rate limit" in str(caught.value)
    assert len(graph.requests) == 1  # the second call never reached Meta


def test_unreadable_usage_headers_are_ignored(client, graph, clock):
    graph.queue(AD_ID, ok({"id": AD_ID}, {"X-App-Usage": "{not json", "X-Business-Use-Case-Usage": "[]"}))

    client.get(AD_ID)
    client.get(AD_ID)

    assert clock.sleeps == []
