"""Shared fixtures. PostgreSQL and Redis tests run when reachable and must run when CI=true."""

from __future__ import annotations

import importlib.util
import os
import socket
from typing import Any
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.support.brokers import broker_down, drain_memory_queue, point_celery_at
from tests.support.factories import UserFactory
from tests.support.outbound import cloud  # noqa: F401 (a fixture: the fake Cloud API, settings aimed at it)
from tests.support.people import LEAD_PERMS, staff
from whatsapp_leads.providers.meta.signature import sign
from whatsapp_leads.providers.meta.simulation import dumps

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
APP_SECRET = "test_app_secret"
VERIFY_TOKEN = "test-verify-token"


def redis_reachable(url: str = REDIS_URL) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _missing_service(item: pytest.Item) -> str | None:
    from django.conf import settings

    if (
        item.get_closest_marker("postgres")
        and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    ):
        return "needs PostgreSQL: run with DATABASE_URL=postgres://... (make test does when it is reachable)"
    if item.get_closest_marker("browser") and not (
        os.path.exists("/usr/bin/chromium") and importlib.util.find_spec("playwright") is not None
    ):
        return "needs Playwright and Debian's Chromium at /usr/bin/chromium (.ci/run installs it)"
    if item.get_closest_marker("redis") and not redis_reachable():
        return f"needs Redis at {REDIS_URL} (set TEST_REDIS_URL)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip what this machine cannot run, saying why; under CI=true a skip would hide a gap, so fail."""
    reason = _missing_service(item)
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _in_memory_broker():
    """The test process publishes to kombu's in-memory transport unless a test points it elsewhere.

    Publishing is still real (kombu serialises and queues the message); only the server is
    absent. Tests that need a worker to consume use Redis explicitly (see tests/procs.py).
    """
    from bharatcrm.celery import app

    # Celery prefers these variables over app.conf, so a developer's exported broker would win.
    names = ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL", "CELERY_BROKER_READ_URL")
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    previous = app.conf.broker_url
    point_celery_at("memory://")
    yield app
    point_celery_at(previous)
    os.environ.update(saved)


@pytest.fixture
def broker(monkeypatch):
    """Publishing goes through kombu for real, into its in-memory transport (no server, no worker).

    Yields a function returning the task messages queued so far. Celery lets these variables
    override ``app.conf`` silently, so they are lifted for the test.
    """
    for name in ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL", "CELERY_BROKER_READ_URL"):
        monkeypatch.delenv(name, raising=False)
    point_celery_at("memory://")
    drain_memory_queue()
    yield drain_memory_queue
    drain_memory_queue()


@pytest.fixture
def unreachable_broker():
    """Every publish in the test is refused, as during a broker outage."""
    with broker_down():
        yield


@pytest.fixture(autouse=True)
def _app_settings(settings) -> None:
    """Every test starts from known secrets, never the developer's .env, and hashes passwords fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "APP_SECRETS": [APP_SECRET],
        "VERIFY_TOKEN": VERIFY_TOKEN,
        "DEFAULT_OWNER": "",
        # Never reach Meta from a test, whatever the developer's environment holds.
        "ACCESS_TOKEN": "",
        "META_ACCESS_TOKEN": "",
        "META_AD_ACCOUNT_IDS": [],
        "META_GRAPH_URL": "http://127.0.0.1:9/unreachable-graph",
        "CLOUD_API_VERSION": "",
        "MARKETING_API_VERSION": "",
    }


@pytest.fixture
def webhook_url() -> str:
    return reverse("whatsapp_leads:webhook")


@pytest.fixture
def post_webhook(client: Client, webhook_url: str):
    """POST a payload (dict or bytes) signed with the test app secret, as Meta would."""

    def post(payload, *, secret: str = APP_SECRET, signature: str | None = None, **extra: Any):
        body = payload if isinstance(payload, bytes) else dumps(payload)
        headers: dict[str, Any] = {
            "HTTP_X_HUB_SIGNATURE_256": signature if signature is not None else sign(body, secret)
        }
        headers.update(extra)
        return client.generic("POST", webhook_url, body, content_type="application/json", **headers)

    return post


@pytest.fixture
def db_is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- people: two sales reps, a manager (sees every lead) and a superuser ---------------------------


@pytest.fixture
def rep():
    return staff(*LEAD_PERMS, username="asha_rep", first_name="Asha", last_name="Verma")


@pytest.fixture
def other_rep():
    return staff(*LEAD_PERMS, username="vikram_rep")


@pytest.fixture
def manager():
    return staff(*LEAD_PERMS, "view_all_leads", username="meera_manager")


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_superuser=True)


# --- shared per-concept fixtures: real workers, the fake Graph API --------------------------------


@pytest.fixture
def workers(request, transactional_db):
    """Real Celery workers on the test database, consuming from the test Redis the view publishes to."""
    from tests.support.procs import Workers

    with Workers(request=request) as started:
        yield started


@pytest.fixture
def fake_graph(settings):
    """A local fake of Meta's Graph API, served on a free port, with the app's settings pointed at it."""
    from tests.support.fake_graph import FakeGraph, point_settings_at

    fake = FakeGraph()
    with fake.serve():
        point_settings_at(settings, fake)
        yield fake
