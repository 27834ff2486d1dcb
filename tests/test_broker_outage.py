"""Broker down, then back: the webhook still answers 200, and the sweep delivers the event later.

A small TCP proxy stands in front of the real Redis. The test process's Celery app (the one the
webhook view publishes with) goes through the proxy; the worker connects to Redis directly.
Closing the proxy is a real outage for the publisher: connections are refused, nothing is faked.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
import redis

from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory
from tests.support.procs import REDIS_URL, Workers, publishing_to, wait_for
from tests.support.tcp_proxy import TcpProxy
from tests.support.world import AD_ID
from whatsapp_leads.models import Lead, WebhookEvent
from whatsapp_leads.providers.meta.simulation import inbound
from whatsapp_leads.services.inbox import sweep

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def redis_proxy():
    parsed = urlparse(REDIS_URL)
    proxy = TcpProxy((parsed.hostname or "127.0.0.1", parsed.port or 6379))
    yield proxy
    proxy.close()


@pytest.fixture
def workers(request, transactional_db):
    # The worker reaches Redis directly; the test process publishes through the proxy below.
    with Workers(request=request, publish=False) as started:
        yield started


def test_webhook_during_broker_outage_answers_200_and_the_sweep_delivers_it_later(
    workers, redis_proxy, post_webhook
):
    campaign = CampaignFactory(name="Car loans")
    rep = CampaignMemberFactory(campaign=campaign).user
    AdFactory(meta_id=AD_ID, campaign=campaign)
    through_proxy = f"redis://127.0.0.1:{redis_proxy.port}{urlparse(REDIS_URL).path}"
    queue = redis.Redis.from_url(REDIS_URL)

    with publishing_to(through_proxy):
        started = time.monotonic()
        response = post_webhook(inbound(wa_id="919840000001", name="Meera", ad_id=AD_ID))
        answered_in = time.monotonic() - started

        assert response.status_code == 200
        assert answered_in < 10, f"the view spent {answered_in:.1f}s trying to publish"
        event = WebhookEvent.objects.get()
        assert event.status == WebhookEvent.Status.PENDING
        assert queue.llen("celery") == 0, "nothing may reach Redis while the broker is unreachable"

        workers.start(concurrency=1)
        redis_proxy.open()
        assert sweep(older_than_seconds=0).total == 1

        wait_for(
            lambda: WebhookEvent.objects.filter(pk=event.pk, status=WebhookEvent.Status.PROCESSED).exists(),
            timeout=30,
            what="the swept event to be processed by the worker",
        )
    queue.close()
    event.refresh_from_db()
    assert event.queued_at is not None
    lead = Lead.objects.get()
    assert (lead.wa_id, lead.campaign, lead.owner) == ("919840000001", campaign, rep)
