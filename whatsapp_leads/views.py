"""The webhook endpoint. It verifies, stores and queues; everything else happens in a task.

Answers (the public contract): handshake 200 with the challenge, else 403; POST without a
signature 401, wrong signature 403, body over the limit 413, database unavailable 503,
otherwise 200, signed garbage included (stored, then marked failed by the worker).
"""

from __future__ import annotations

import hmac
import logging

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .conf import app_settings
from .models import WebhookEvent
from .queueing import enqueue_event
from .signature import verify_meta_signature

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def _text(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def handshake(request: HttpRequest) -> HttpResponse:
    """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
    token = app_settings.VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if (
        token
        and request.GET.get("hub.mode") == "subscribe"
        and hmac.compare_digest(given.encode(), token.encode())
        and "hub.challenge" in request.GET
    ):
        return _text(200, request.GET["hub.challenge"])
    return _text(403, "Forbidden")


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body, or None when it is larger than ``limit`` (read at most limit + 1 bytes)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def receive(request: HttpRequest) -> HttpResponse:
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        return _text(401, "Missing X-Hub-Signature-256")
    body = _read_body(request, app_settings.MAX_BODY_BYTES)
    if body is None:
        return _text(413, "Payload too large")
    if not verify_meta_signature(body, header, app_settings.app_secrets):
        logger.warning("webhook signature mismatch from %s", _client_ip(request))
        return _text(403, "Invalid signature")

    wanted = app_settings.STORED_HEADERS
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() in wanted}
    try:
        # One INSERT and nothing else: in autocommit it is its own transaction, so wrapping it in
        # atomic() would only add BEGIN/COMMIT round trips to a path Meta times.
        event = WebhookEvent.objects.create(
            provider="meta", body=body, headers=headers, remote_addr=_client_ip(request)
        )
    except DatabaseError:
        logger.exception("webhook could not be stored; answering 503 so Meta retries")
        return _text(503, "Temporarily unavailable")
    # Runs at once in autocommit; inside a host's transaction it waits for the commit, so a
    # worker never looks for a row it cannot see yet.
    transaction.on_commit(lambda: enqueue_event(event.pk))
    return _text(200, "OK")


@csrf_exempt
@transaction.non_atomic_requests
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return handshake(request)
    return receive(request)
