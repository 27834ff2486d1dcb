"""Sending with real processes: REST API -> Redis -> Celery worker -> the fake Cloud API -> webhook back.

The fake Cloud API is served from the test process; the workers get its address and token as a
deployment would (environment variables).
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from tests.support.fake_graph import FakeGraph
from tests.support.outbound import lead_who_wrote, point_cloud_at
from tests.support.people import logged_in
from tests.support.procs import Workers, wait_for
from whatsapp_leads.models import Message, WebhookEvent
from whatsapp_leads.providers.meta.simulation import PHONE_NUMBER_ID, WABA_ID, status_update
from whatsapp_leads.services.outbound import outbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 30.0


@pytest.fixture
def fake(settings):
    graph = FakeGraph()
    with graph.serve():
        point_cloud_at(settings, graph, SEND_RATE_BACKEND="")
        yield graph


def worker_env(fake: FakeGraph, **extra: str) -> dict[str, str]:
    return {
        "META_GRAPH_URL": fake.base_url,
        "META_GRAPH_VERSION": fake.version,
        "WHATSAPP_ACCESS_TOKEN": fake.token,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_BUSINESS_ACCOUNT_ID": WABA_ID,
        **extra,
    }


@pytest.fixture
def workers(request, transactional_db):
    with Workers(request=request) as started:
        yield started


def test_a_send_through_the_api_reaches_meta_gets_its_wamid_and_a_delivered_webhook_moves_it(
    workers, fake, rep, post_webhook
):
    workers.start(concurrency=1, env=worker_env(fake))
    lead = lead_who_wrote(owner=rep)

    response = logged_in(rep).post(
        reverse("whatsapp_leads:lead-messages", args=[lead.pk]), {"text": "Hi, calling you at 5?"},
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 202, response.content
    message_id = response.json()["id"]
    accepted = wait_for(
        lambda: Message.objects.filter(pk=message_id, send_state="accepted").first(),
        timeout=TIMEOUT, what="the worker to send the message",
    )  # fmt: skip
    assert accepted.wamid == "wamid.FAKE00000001"
    assert fake.sends()[0]["text"]["body"] == "Hi, calling you at 5?"

    assert post_webhook(status_update(accepted.wamid, "delivered")).status_code == 200
    wait_for(
        lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).exists(),
        timeout=TIMEOUT, what="the worker to process the status",
    )  # fmt: skip
    accepted.refresh_from_db()
    assert accepted.status == "delivered"
    assert len(fake.sent) == 1


def max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def test_two_workers_together_hold_the_per_number_rate(workers, fake, django_capture_on_commit_callbacks):
    rate, count = 5, 20
    env = worker_env(fake, WHATSAPP_SEND_RATE_PER_NUMBER=str(rate))
    workers.start(concurrency=2, env=env)
    workers.start(concurrency=2, env=env)
    leads = [lead_who_wrote(wa_id=f"9198200{n:05d}") for n in range(count)]

    started = time.time()
    for lead in leads:
        assert isinstance(outbox.queue_send(lead, kind="text", content={"body": "New offer"}), Message)
    wait_for(
        lambda: Message.objects.filter(send_state="accepted").count() == count,
        timeout=TIMEOUT, what=f"{count} sends accepted",
    )  # fmt: skip
    elapsed = fake.sent[-1].at - started

    # A sliding second never holds more than the rate (one more allowed for network jitter
    # between the Redis grant and the fake's clock); unthrottled, 4 processes send 20 in well under a second.
    assert max_in_any_second([s.at for s in fake.sent]) <= rate + 1
    assert elapsed >= (count - rate) / rate - 0.5
    assert len(fake.sent) == count
