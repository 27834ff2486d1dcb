"""The webhook endpoint: Meta's handshake, signature checks, size limit, storage and queueing.

Contract: handshake 200 with the challenge, else 403; POST without signature 401, wrong signature
403, body over 3 MB 413, database unavailable 503, otherwise 200 (signed garbage included).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from tests.conftest import APP_SECRET, VERIFY_TOKEN
from tests.support.brokers import broker_down
from whatsapp_leads.conf import app_settings
from whatsapp_leads.models import Lead, Message, WebhookEvent
from whatsapp_leads.providers.meta.signature import sign, verify_meta_signature
from whatsapp_leads.providers.meta.simulation import (
    contact,
    dumps,
    envelope,
    inbound,
    messages_value,
    text_message,
)
from whatsapp_leads.services import inbox
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "payloads"

# Reference vector (computed independently, see the Meta dossier): 49 bytes, secret test_app_secret.
VECTOR_BODY = b'{"object":"whatsapp_business_account","entry":[]}'
VECTOR_SIGNATURE = "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"

PROCESS_TASK = "whatsapp_leads.process_webhook_event"


def padded_payload(size: int) -> bytes:
    """A real-shaped webhook body of exactly ``size`` bytes (a long text message)."""

    def body(text: str) -> bytes:
        message = text_message(text=text, message_id="wamid.PADDED", timestamp=1749416383)
        return dumps(envelope(messages_value([message], [contact()])))

    filler = size - len(body(""))
    assert filler > 0
    result = body("x" * filler)
    assert len(result) == size
    return result


# --- GET: the subscription handshake -----------------------------------------------------------


def test_handshake_echoes_the_challenge_as_plain_text(client, webhook_url, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(
            webhook_url,
            {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(
            {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}, id="wrong-token"
        ),
        pytest.param(
            {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
            id="wrong-mode",
        ),
        pytest.param({"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, id="no-mode"),
        pytest.param({"hub.mode": "subscribe", "hub.challenge": "1"}, id="no-token"),
        pytest.param({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, id="no-challenge"),
        pytest.param({}, id="no-params"),
    ],
)
def test_handshake_is_refused_unless_mode_token_and_challenge_are_right(client, webhook_url, params):
    response = client.get(webhook_url, params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_handshake_is_refused_when_no_verify_token_is_configured(client, webhook_url, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "VERIFY_TOKEN": ""}
    response = client.get(
        webhook_url, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "7"}
    )
    assert response.status_code == 403


# --- POST: signature ---------------------------------------------------------------------------


def test_signature_matches_the_reference_test_vector():
    assert len(VECTOR_BODY) == 49
    assert sign(VECTOR_BODY, "test_app_secret") == VECTOR_SIGNATURE
    assert verify_meta_signature(VECTOR_BODY, VECTOR_SIGNATURE, ["test_app_secret"])
    assert not verify_meta_signature(VECTOR_BODY + b" ", VECTOR_SIGNATURE, ["test_app_secret"])


def test_reference_vector_request_is_accepted_and_stored(post_webhook):
    response = post_webhook(VECTOR_BODY, signature=VECTOR_SIGNATURE)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().body_bytes == VECTOR_BODY


def test_any_configured_secret_verifies_while_rotating(post_webhook, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "APP_SECRETS": ["new_app_secret", APP_SECRET]}
    assert post_webhook(inbound(), secret="new_app_secret").status_code == 200
    assert post_webhook(inbound(), secret=APP_SECRET).status_code == 200
    assert post_webhook(inbound(), secret="retired_app_secret").status_code == 403
    assert WebhookEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("signature", "status"),
    [
        pytest.param(None, 401, id="missing-header"),
        pytest.param("sha256=" + "0" * 64, 403, id="wrong-signature"),
        pytest.param(sign(VECTOR_BODY, "someone_elses_secret"), 403, id="other-secret"),
        pytest.param(VECTOR_SIGNATURE.removeprefix("sha256="), 403, id="no-sha256-prefix"),
        pytest.param("sha1=" + VECTOR_SIGNATURE.removeprefix("sha256="), 403, id="sha1-prefix"),
        pytest.param("sha256=", 403, id="empty-digest"),
        pytest.param(
            sign(b'{"object":"whatsapp_business_account","entry":[{}]}', APP_SECRET), 403, id="other-body"
        ),
    ],
)
def test_rejected_post_touches_no_table(client, webhook_url, django_assert_num_queries, signature, status):
    headers = {} if signature is None else {"HTTP_X_HUB_SIGNATURE_256": signature}
    with django_assert_num_queries(0):
        response = client.generic(
            "POST", webhook_url, VECTOR_BODY, content_type="application/json", **headers
        )
    assert response.status_code == status
    assert WebhookEvent.objects.count() == 0


def test_every_post_is_refused_when_no_app_secret_is_configured(post_webhook, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "APP_SECRETS": []}
    assert post_webhook(VECTOR_BODY, signature=VECTOR_SIGNATURE).status_code == 403
    assert WebhookEvent.objects.count() == 0


def test_other_methods_are_not_allowed(client, webhook_url):
    assert client.put(webhook_url, VECTOR_BODY, content_type="application/json").status_code == 405
    assert WebhookEvent.objects.count() == 0


# --- POST: size limit --------------------------------------------------------------------------


def test_limit_is_three_mebibytes():
    assert app_settings.MAX_BODY_BYTES == 3 * 1024 * 1024


def test_body_of_exactly_the_limit_is_accepted(post_webhook):
    body = padded_payload(app_settings.MAX_BODY_BYTES)
    assert post_webhook(body).status_code == 200
    assert WebhookEvent.objects.get().body_bytes == body


def test_body_one_byte_over_the_limit_is_refused_with_413(post_webhook, django_assert_num_queries):
    body = padded_payload(app_settings.MAX_BODY_BYTES + 1)
    with django_assert_num_queries(0):
        response = post_webhook(body)
    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


def test_body_over_djangos_old_default_limit_is_accepted(post_webhook, settings):
    body = padded_payload(2_900_000)
    assert len(body) > 2_621_440  # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    assert post_webhook(body).status_code == 200
    assert WebhookEvent.objects.get().body_bytes == body


def test_view_enforces_its_own_limit_even_with_djangos_default_upload_limit(post_webhook, settings):
    """The view reads the stream itself, so a host left on Django's 2.5 MB default still takes 3 MB."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    assert post_webhook(padded_payload(2_900_000)).status_code == 200
    assert post_webhook(padded_payload(app_settings.MAX_BODY_BYTES + 1)).status_code == 413
    assert WebhookEvent.objects.count() == 1


# --- POST: what is stored ----------------------------------------------------------------------


def test_signed_post_is_stored_byte_for_byte_with_headers_and_sender(post_webhook):
    body = (PAYLOADS / "meta_pretty_printed.json").read_bytes()  # indented, raw UTF-8 and \u escapes
    assert dumps(json.loads(body)) != body  # any re-serialisation would change the bytes
    before = timezone.now()
    response = post_webhook(
        body,
        HTTP_USER_AGENT="facebookexternalua",
        HTTP_X_FORWARDED_FOR="173.252.127.1",
        HTTP_COOKIE="sessionid=should-not-be-kept",
        HTTP_AUTHORIZATION="Bearer should-not-be-kept",
        REMOTE_ADDR="31.13.64.1",
    )
    after = timezone.now()

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.body_bytes == body
    assert event.provider == "meta"
    assert event.status == WebhookEvent.Status.PENDING
    assert event.attempts == 0
    assert event.remote_addr == "31.13.64.1"
    assert before <= event.received_at <= after
    assert event.headers == {
        "content-type": "application/json",
        "content-length": str(len(body)),
        "user-agent": "facebookexternalua",
        "x-hub-signature-256": sign(body, APP_SECRET),
        "x-forwarded-for": "173.252.127.1",
    }
    # The stored bytes are what the worker reads: non-ASCII text survives both ways of encoding it.
    assert process_event(event.pk).status == "processed"
    assert Lead.objects.get().name == "आशा वर्मा"
    assert Message.objects.get().text == "नमस्ते, home loan?"


def test_view_makes_one_query_and_queues_the_stored_event(
    post_webhook, broker, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """One INSERT, then (after commit) one publish to the broker; no parsing, no other query."""
    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(inbound(ad_id="120226305854810726"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert broker() == [(PROCESS_TASK, (event.pk,))]
    assert Lead.objects.count() == 0  # processing is the worker's job


def test_nothing_is_queued_before_the_event_commits(post_webhook, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_webhook(inbound())
        assert broker() == []
    assert len(callbacks) == 1


def test_signed_garbage_is_accepted_then_failed_as_not_json(post_webhook):
    response = post_webhook(b"this is not json {")
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PENDING

    outcome = process_event(event.pk)
    event.refresh_from_db()
    assert outcome.status == "failed"
    assert outcome.retry_in is None  # retrying cannot fix a body
    assert event.status == WebhookEvent.Status.FAILED
    assert "not valid JSON" in event.error


# --- failures of what the view depends on ------------------------------------------------------


@contextmanager
def database_refusing_writes() -> Iterator[None]:
    """The real database, switched to read-only for this connection."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA query_only = OFF")
            else:
                cursor.execute("SET default_transaction_read_only = off")


@pytest.mark.django_db(transaction=True)
def test_database_refusing_writes_answers_503_so_meta_retries(post_webhook):
    with database_refusing_writes():
        response = post_webhook(inbound())
    assert response.status_code == 503
    assert WebhookEvent.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_unreachable_answers_503_so_meta_retries(post_webhook):
    original = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    try:
        response = post_webhook(inbound())
    finally:
        connection.close()
        connection.settings_dict.update(original)
    assert response.status_code == 503
    assert WebhookEvent.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_dropped_is_replaced_and_the_webhook_is_still_stored(post_webhook):
    """The view skips Django's per-request health check; a dead connection is retried once instead."""
    connection.ensure_connection()
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:  # as a database restart would, from outside
            cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    finally:
        other.close()
    response = post_webhook(inbound())
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_broker_down_still_answers_200_and_the_sweep_queues_the_event_later(
    post_webhook, broker, django_capture_on_commit_callbacks
):
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(inbound())
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PENDING
    assert event.queued_at is None

    # The broker is back (leaving broker_down() restored it): the sweep hands the event over.
    assert inbox.sweep(older_than_seconds=0).total == 1
    assert broker() == [(PROCESS_TASK, (event.pk,))]
    event.refresh_from_db()
    assert event.queued_at is not None
    # Just queued: the default threshold leaves it alone instead of queuing it twice.
    assert inbox.sweep().total == 0
