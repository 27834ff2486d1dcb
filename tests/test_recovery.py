"""Recovering from outages without a person: the broker coming back, a database restarting under a task.

Real processes throughout: a Celery worker (with its embedded beat where the sweep is needed),
real Redis and PostgreSQL, and a TCP proxy in front of one of them whose closing is the outage.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from tests.support.procs import REDIS_URL, Workers, database_url, publishing_to, wait_for
from tests.support.tcp_proxy import TcpProxy
from whatsapp_leads.models import Lead, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.queueing import PROCESS_EVENT, publish

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

HELD_BACK = 5


def _processed(count: int):
    return lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() >= count


@pytest.fixture
def redis_proxy():
    parsed = urlparse(REDIS_URL)
    proxy = TcpProxy((parsed.hostname or "127.0.0.1", parsed.port or 6379))
    yield proxy
    proxy.close()


def test_events_held_back_by_a_broker_outage_are_processed_within_30s_of_its_return(
    request, redis_proxy, post_webhook
):
    """Web tier, worker and beat all reach Redis through the proxy: the outage is everyone's."""
    through_proxy = f"redis://127.0.0.1:{redis_proxy.port}{urlparse(REDIS_URL).path}"
    redis_proxy.open()
    with (
        Workers(request=request, broker_url=through_proxy, publish=False) as workers,
        publishing_to(through_proxy),
    ):
        workers.start(concurrency=1, beat=True)
        redis_proxy.close()
        for n in range(HELD_BACK):
            assert (
                post_webhook(inbound(wa_id=f"91984000{n:04d}", message_id=f"wamid.OUT{n}")).status_code == 200
            )
        # Every publish was refused, and the rows say so: nothing in the broker will run them.
        assert WebhookEvent.objects.unqueued().count() == HELD_BACK

        redis_proxy.open()
        back = time.monotonic()
        wait_for(_processed(HELD_BACK), timeout=45, what="the held-back events to be processed")
        recovered_in = time.monotonic() - back

    assert recovered_in < 30, f"held-back events took {recovered_in:.1f}s after the broker returned"
    assert Lead.objects.count() == HELD_BACK
    print(f"\nheld-back events processed {recovered_in:.1f}s after the broker returned")


def test_a_task_meeting_a_database_outage_is_retried_by_the_worker_not_left_to_the_sweep(request):
    """The worker reaches PostgreSQL through the proxy; no beat runs, so only the task's retry can help."""
    pg = urlparse(database_url())
    proxy = TcpProxy((pg.hostname or "127.0.0.1", pg.port or 5432))
    event = WebhookEvent.objects.create(provider="meta", body=dumps(inbound(wa_id="919840009999")))
    through_proxy = database_url().replace(f":{pg.port}/", f":{proxy.port}/")
    proxy.open()
    try:
        with Workers(request=request) as workers:
            workers.start(concurrency=1, env={"DATABASE_URL": through_proxy})
            proxy.close()
            assert publish(PROCESS_EVENT, event.pk)
            time.sleep(2)  # the task runs, meets the closed port and schedules its retry
            assert WebhookEvent.objects.get(pk=event.pk).status == WebhookEvent.Status.PENDING
            proxy.open()
            wait_for(_processed(1), timeout=30, what="the task to be retried once the database was back")
            log = "\n".join(worker.log() for worker in workers.started)
    finally:
        proxy.close()
    assert Lead.objects.filter(wa_id="919840009999").exists()
    assert "database unavailable, retrying" in log
