"""The per-number send rate: a sliding second shared by every worker, in Redis or the database."""

from __future__ import annotations

import pytest

from tests.conftest import REDIS_URL
from tests.support.brokers import point_celery_at
from tests.support.procs import flush_redis_db
from whatsapp_leads.models import SendRateWindow
from whatsapp_leads.services.outbound import ratelimit


def configure(settings, **values) -> None:
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, **values}


@pytest.mark.django_db
def test_the_database_window_grants_the_limit_then_says_how_long_to_wait(settings):
    configure(settings, SEND_RATE_PER_NUMBER=3, SEND_RATE_BACKEND="database")

    waits = [ratelimit.try_acquire("106540352242922") for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0.9 < waits[3] <= ratelimit.WINDOW_SECONDS
    assert len(SendRateWindow.objects.get(phone_number_id="106540352242922").grants) == 3
    assert ratelimit.try_acquire("other-number") == 0.0  # each number has its own second


@pytest.mark.django_db
def test_acquire_waits_out_the_window_instead_of_failing(settings):
    configure(settings, SEND_RATE_PER_NUMBER=2, SEND_RATE_BACKEND="database")
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        row = SendRateWindow.objects.get(phone_number_id="n1")  # time passes: the grants age out
        row.grants = [t - seconds for t in row.grants]
        row.save()

    results = [ratelimit.acquire("n1", sleep=sleep) for _ in range(3)]

    assert results == [True, True, True]
    assert len(slept) == 1 and 0.9 < slept[0] <= ratelimit.WINDOW_SECONDS


@pytest.mark.django_db
def test_acquire_gives_up_past_its_budget_so_the_task_reschedules(settings):
    configure(settings, SEND_RATE_PER_NUMBER=1, SEND_RATE_BACKEND="database")
    assert ratelimit.acquire("n2") is True
    assert ratelimit.acquire("n2", max_wait=0.1, sleep=lambda s: None) is False


def test_a_zero_rate_means_no_limit(settings):
    configure(settings, SEND_RATE_PER_NUMBER=0)
    assert ratelimit.try_acquire("n3") == 0.0


@pytest.mark.redis
def test_the_redis_window_is_chosen_with_a_redis_broker_and_holds_the_limit(settings):
    configure(settings, SEND_RATE_PER_NUMBER=5, SEND_RATE_BACKEND="")
    flush_redis_db(REDIS_URL)
    point_celery_at(REDIS_URL)
    try:
        assert ratelimit.backend() == "redis"
        waits = [ratelimit.try_acquire("106540352242922") for _ in range(7)]
    finally:
        point_celery_at("memory://")
        flush_redis_db(REDIS_URL)
    assert waits[:5] == [0.0] * 5
    assert all(0.9 < w <= ratelimit.WINDOW_SECONDS for w in waits[5:])


def test_a_broker_that_is_not_redis_uses_the_database(settings):
    configure(settings, SEND_RATE_BACKEND="")
    assert ratelimit.backend() == "database"
