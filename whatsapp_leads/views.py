"""The webhook endpoint of every provider. It verifies, stores and queues; everything else happens in a task.

Answers (the public contract): handshake as the provider says (Meta: 200 with the challenge,
else 403); POST without a signature 401, wrong signature 403, body over the limit 413, database
unavailable 503, otherwise 200, signed garbage included (stored, then marked failed by the worker).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.db import DatabaseError, router, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .conf import app_settings
from .models import WebhookEvent
from .providers.base import QUERY_STRING_HEADER, Provider, WebhookRejected
from .providers.registry import DEFAULT_PROVIDER, UnknownProvider, get_provider
from .queueing import wake_covered
from .services.intake import store_received

logger = logging.getLogger(__name__)


def _text(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


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


@lru_cache(maxsize=32)
def _meta_keys(wanted: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """(stored name, ``request.META`` key) of each kept header, as WSGI names them."""
    pairs = []
    for name in sorted(wanted):
        key = name.upper().replace("-", "_")
        pairs.append((name, key if key in {"CONTENT_TYPE", "CONTENT_LENGTH"} else f"HTTP_{key}"))
    return tuple(pairs)


def _kept_headers(request: HttpRequest, provider: Provider) -> dict[str, str]:
    """The request headers stored with the event (the provider's and ``STORED_HEADERS``)."""
    meta = request.META
    pairs = _meta_keys(frozenset((*provider.stored_headers, *app_settings.STORED_HEADERS)))
    headers = {name: meta[key] for name, key in pairs if key in meta}
    if provider.stored_query and meta.get("QUERY_STRING"):
        headers[QUERY_STRING_HEADER] = meta["QUERY_STRING"]
    return headers


def receive(request: HttpRequest, provider: Provider) -> HttpResponse:
    body = _read_body(request, app_settings.MAX_BODY_BYTES)
    try:
        # A missing signature is refused before the body is judged; a signed one only once it fits.
        provider.verify(request, body or b"")
    except WebhookRejected as refusal:
        if body is None and refusal.status != 401:
            return _text(413, "Payload too large")
        logger.warning("%s webhook refused from %s: %s", provider.name, _client_ip(request), refusal.reason)
        return _text(refusal.status, refusal.reason)
    if body is None:
        return _text(413, "Payload too large")

    try:
        # One INSERT and nothing else, shared with the webhooks arriving alongside (group commit):
        # it returns once the row is committed, and raises when it was not.
        event_id = store_received(
            provider=provider.name,
            body=body,
            headers=_kept_headers(request, provider),
            remote_addr=_client_ip(request),
        )
    except DatabaseError:
        logger.exception("webhook could not be stored; answering 503 so the provider retries")
        return _text(503, "Temporarily unavailable")
    # In autocommit the row is committed: hand it over now. Inside a host's transaction, only
    # once that commits, so a worker never looks for a row it cannot see yet (on_commit's
    # bookkeeping is skipped in the common case: it was ~3 % of the webhook's Python).
    alias = router.db_for_write(WebhookEvent)
    if transaction.get_connection(alias).in_atomic_block:
        transaction.on_commit(lambda: _hand_over(event_id), using=alias)
    else:
        _hand_over(event_id)
    return _text(200, "OK")


def _hand_over(event_id: int) -> None:
    """Publish the stored event. Never raises: the row is committed, so the answer is 200 regardless."""
    if wake_covered():  # most webhooks under load: skip building a queryset only to hear the same
        return
    try:
        WebhookEvent.objects.publish_new(event_id)
    except DatabaseError:  # the broker refused and marking that failed too: the stale sweep recovers it
        logger.exception("webhook event %s: could not record its failed publish", event_id)


@csrf_exempt
@transaction.non_atomic_requests
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, provider: str = DEFAULT_PROVIDER) -> HttpResponse:
    try:
        chosen = get_provider(provider)
    except UnknownProvider:
        raise Http404(f"No provider {provider!r}") from None
    if request.method == "GET":
        return chosen.handshake(request)
    return receive(request, chosen)
