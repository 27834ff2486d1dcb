"""The webhook endpoint of every provider. It verifies, stores and queues; everything else happens in a task.

Answers (the public contract): handshake as the provider says (Meta: 200 with the challenge,
else 403); POST without a signature 401, wrong signature 403, body over the limit 413, database
unavailable 503, otherwise 200, signed garbage included (stored, then marked failed by the worker).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .conf import app_settings
from .models import WebhookEvent
from .providers.base import QUERY_STRING_HEADER, Provider, WebhookRejected
from .providers.registry import DEFAULT_PROVIDER, UnknownProvider, get_provider

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


# --- storing: one precompiled INSERT -----------------------------------------------------------

#: The columns the view fills on every request; every other column takes its model default.
_PER_REQUEST = ("provider", "body", "headers", "remote_addr", "received_at", "queued_at")


@lru_cache(maxsize=8)
def _insert_statement(alias: str, vendor: str) -> tuple[str, tuple[Any, ...], bool]:
    """(SQL, the constant parameters, whether it returns the id) of the INSERT, built once per database.

    The ORM's ``create()`` builds a model instance, compiles the query and adapts every field on
    each request; the statement never changes, so it is written once from the model's own fields
    (a new column with a default is picked up, one without a default fails here, loudly).
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = WebhookEvent._meta
    columns = [str(meta.get_field(name).column) for name in _PER_REQUEST]  # type: ignore[union-attr]
    constants: list[Any] = []
    for field in meta.concrete_fields:
        if field.primary_key or field.name in _PER_REQUEST:
            continue
        if field.null and not field.has_default():
            continue  # NULL, as the ORM would write it
        default = field.get_default()  # the declared default, or "" for a text column
        if default is None:
            raise TypeError(f"WebhookEvent.{field.name} has no default: the webhook view cannot store it")
        columns.append(str(field.column))
        constants.append(field.get_db_prep_save(default, connection))
    names = ", ".join(quote(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    returning = bool(connection.features.can_return_columns_from_insert)
    # Names from the model, quoted; values only as parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"  # noqa: S608
    if returning:
        sql += f" RETURNING {quote(str(meta.pk.column))}"
    return sql, tuple(constants), returning


def _insert(
    connection: BaseDatabaseWrapper, provider: str, body: bytes, headers: dict, remote_addr: str | None
) -> int:
    sql, constants, returning = _insert_statement(connection.alias, connection.vendor)
    meta = WebhookEvent._meta
    now = meta.get_field("received_at").get_db_prep_save(timezone.now(), connection)
    params = (
        provider,
        body,
        meta.get_field("headers").get_db_prep_save(headers, connection),
        meta.get_field("remote_addr").get_db_prep_save(remote_addr, connection),
        now,
        now,  # queued_at: waiting from the INSERT on (see WebhookEventQuerySet)
        *constants,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0] if returning else cursor.lastrowid)


def store_received(*, provider: str, body: bytes, headers: dict[str, str], remote_addr: str | None) -> int:
    """Store one webhook as a pending event in one statement; its id once it is committed.

    In autocommit (the view is ``non_atomic_requests``) the INSERT is its own transaction, so
    returning means committed. Django's per-request health check (a ``SELECT 1`` before the first
    query when ``CONN_HEALTH_CHECKS`` is on) is a round trip on every webhook; here it is skipped
    and a reused connection that turns out dead (the database restarted since) is replaced and
    the INSERT tried once more, which is what the check would have done. A duplicate from a lost
    answer to a committed INSERT is harmless: processing converges on the same rows.
    Inside a host's transaction nothing is retried (the transaction is gone with the connection).
    """
    connection = connections[router.db_for_write(WebhookEvent)]
    reused = connection.connection is not None and not connection.in_atomic_block
    if reused:
        connection.health_check_done = True  # type: ignore[attr-defined]  # Django's own flag (4.1+)
    try:
        return _insert(connection, provider, body, headers, remote_addr)
    except (OperationalError, InterfaceError):
        if not reused or (connection.connection is not None and connection.is_usable()):
            raise
    logger.warning("webhook: the database connection was dead; storing again on a new one")
    connection.close()
    return _insert(connection, provider, body, headers, remote_addr)


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
        # One INSERT and nothing else: in autocommit it is its own transaction, so wrapping it in
        # atomic() would only add BEGIN/COMMIT round trips to a path the provider times.
        event_id = store_received(
            provider=provider.name,
            body=body,
            headers=_kept_headers(request, provider),
            remote_addr=_client_ip(request),
        )
    except DatabaseError:
        logger.exception("webhook could not be stored; answering 503 so the provider retries")
        return _text(503, "Temporarily unavailable")
    # Runs at once in autocommit; inside a host's transaction it waits for the commit, so a
    # worker never looks for a row it cannot see yet.
    transaction.on_commit(lambda: _hand_over(event_id))
    return _text(200, "OK")


def _hand_over(event_id: int) -> None:
    """Publish the stored event. Never raises: the row is committed, so the answer is 200 regardless."""
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
