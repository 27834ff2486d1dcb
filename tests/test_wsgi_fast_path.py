"""``whatsapp_leads.wsgi.with_webhook_fast_path``: webhook POSTs answered by the view outside Django's cycle.

The wrapper is driven as a WSGI server drives it (an environ, ``start_response``), around the
real Django application. Whether a request went through Django's handler is told by
``request_started``, which only that handler sends. The answers must be the view's contract
(401/403/413/200, stored or not) and everything that is not a webhook POST must be Django's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from django.urls import set_script_prefix

from tests.conftest import APP_SECRET, VERIFY_TOKEN
from whatsapp_leads.models import WebhookEvent
from whatsapp_leads.providers.meta.signature import sign
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.wsgi import webhook_paths, with_webhook_fast_path

pytestmark = pytest.mark.django_db

URL = "/whatsapp/webhook/"


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.status = status
        self.headers = dict(headers)
        self.body = body


@pytest.fixture(autouse=True)
def keep_the_test_transaction() -> Iterator[None]:
    """Django's handler closes old connections at each request's start and end, which would end
    the test's transaction; its test client disconnects that receiver too, and so does this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def through_django() -> Iterator[list[Any]]:
    """The senders of ``request_started`` seen: one per request Django's handler served."""
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(sender)

    request_started.connect(receiver)
    yield seen
    request_started.disconnect(receiver)


@pytest.fixture
def serve(django_capture_on_commit_callbacks):
    """Send one request through a fresh wrapper around Django's WSGI handler."""

    def send(method: str, path: str, body: bytes = b"", **extra: Any) -> Answer:
        application = with_webhook_fast_path(WSGIHandler())
        factory = RequestFactory()
        if method == "POST":
            environ = factory.generic("POST", path, body, content_type="application/json", **extra).environ
        else:
            environ = factory.get(path, **extra).environ
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started.append((status, headers))

        with django_capture_on_commit_callbacks(execute=True):
            chunks = application(environ, start_response)
            body_out = b"".join(chunks)
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        set_script_prefix("/")
        ((status, headers),) = started
        return Answer(status, headers, body_out)

    return send


def signed(payload: dict) -> tuple[bytes, dict[str, str]]:
    body = dumps(payload)
    return body, {"HTTP_X_HUB_SIGNATURE_256": sign(body, APP_SECRET)}


def test_a_signed_webhook_is_stored_and_answered_200_without_django_s_request_cycle(
    serve, through_django, broker
):
    body, headers = signed(inbound(wa_id="919870000001"))
    answer = serve("POST", URL, body, **headers)
    assert (answer.status_code, answer.body) == (200, b"OK")
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    event = WebhookEvent.objects.get()
    assert (bytes(event.body), event.provider, event.status) == (body, "meta", WebhookEvent.Status.PENDING)
    assert event.headers["x-hub-signature-256"] == headers["HTTP_X_HUB_SIGNATURE_256"]
    assert through_django == []  # no middleware, no signals: the view alone
    assert [task for task, _ in broker()] == ["whatsapp_leads.process_webhook_event"]


def test_the_provider_specific_url_takes_the_same_path(serve, through_django):
    body, headers = signed(inbound(wa_id="919870000002"))
    assert serve("POST", "/whatsapp/webhook/meta/", body, **headers).status_code == 200
    assert WebhookEvent.objects.get().provider == "meta"
    assert through_django == []


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha256=" + "0" * 64, 403), ("md5=abc", 403)],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(serve, signature, status):
    body = dumps(inbound())
    extra = {} if signature is None else {"HTTP_X_HUB_SIGNATURE_256": signature}
    answer = serve("POST", URL, body, **extra)
    assert answer.status_code == status
    assert not WebhookEvent.objects.exists()


def test_an_oversized_body_is_413_and_nothing_is_stored(serve, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "MAX_BODY_BYTES": 100}
    body = b'{"object":"whatsapp_business_account","entry":[],"pad":"' + b"x" * 200 + b'"}'
    answer = serve("POST", URL, body, HTTP_X_HUB_SIGNATURE_256=sign(body, APP_SECRET))
    assert answer.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_signed_garbage_is_stored_for_the_worker_to_fail(serve):
    body = b"not json at all"
    answer = serve("POST", URL, body, HTTP_X_HUB_SIGNATURE_256=sign(body, APP_SECRET))
    assert answer.status_code == 200
    assert bytes(WebhookEvent.objects.get().body) == body


def test_a_host_outside_allowed_hosts_gets_400_as_from_django_and_nothing_is_stored(serve, settings):
    settings.ALLOWED_HOSTS = ["crm.example.com"]
    body, headers = signed(inbound())
    answer = serve("POST", URL, body, HTTP_HOST="evil.example.net", **headers)
    assert answer.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_the_handshake_and_every_other_request_are_django_s(serve, through_django):
    answer = serve(
        "GET", URL, QUERY_STRING=f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=4242"
    )
    assert (answer.status_code, answer.body) == (200, b"4242")
    assert serve("GET", "/healthz/").body == b"ok"
    assert serve("POST", "/healthz/").status_code in {403, 405, 200}  # whatever Django says, not the view
    assert len(through_django) == 3


def test_plain_http_under_secure_ssl_redirect_is_left_to_django_which_redirects(
    serve, settings, through_django
):
    settings.SECURE_SSL_REDIRECT = True
    body, headers = signed(inbound())
    answer = serve("POST", URL, body, **headers)
    assert answer.status_code == 301
    assert answer.headers["Location"].startswith("https://")
    assert len(through_django) == 1
    assert not WebhookEvent.objects.exists()


def test_an_unexpected_error_is_a_logged_500_and_reported_to_error_listeners(serve, settings, caplog):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "PROVIDERS": ["whatsapp_leads.providers.meta.MetaProvider", "tests.test_checks.LeadsProvider"],
    }
    reported: list[Any] = []

    def receiver(sender: Any, request: Any, **kwargs: Any) -> None:
        reported.append(request.path)

    got_request_exception.connect(receiver)
    try:
        answer = serve("POST", "/whatsapp/webhook/leads-test/", b"{}")  # its verify() is not implemented
    finally:
        got_request_exception.disconnect(receiver)
    assert answer.status_code == 500
    assert reported == ["/whatsapp/webhook/leads-test/"]
    assert any(r.name == "django.request" and r.levelname == "ERROR" for r in caplog.records)
    assert not WebhookEvent.objects.exists()


def test_turned_off_it_is_django_s_application_itself(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "WEBHOOK_FAST_PATH": False}
    application = WSGIHandler()
    assert with_webhook_fast_path(application) is application


def test_the_paths_come_from_the_urlconf_for_every_enabled_provider(settings):
    assert webhook_paths() == {URL: "meta", "/whatsapp/webhook/meta/": "meta"}
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "PROVIDERS": ["whatsapp_leads.providers.meta.MetaProvider", "tests.test_checks.LeadsProvider"],
    }
    assert webhook_paths()["/whatsapp/webhook/leads-test/"] == "leads-test"


def test_a_provider_no_longer_enabled_is_left_to_django_which_answers_404(serve, settings, through_django):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "PROVIDERS": ["whatsapp_leads.providers.meta.MetaProvider", "tests.test_checks.LeadsProvider"],
    }
    application = with_webhook_fast_path(WSGIHandler())
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "PROVIDERS": ["whatsapp_leads.providers.meta.MetaProvider"],
    }
    environ = RequestFactory().generic("POST", "/whatsapp/webhook/leads-test/", b"{}").environ
    statuses: list[str] = []
    b"".join(application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("404")
    assert len(through_django) == 1


def test_the_served_project_uses_it():
    import bharatcrm.wsgi

    assert bharatcrm.wsgi.application.__wrapped__.__class__ is WSGIHandler
