"""Storing a received webhook: one precompiled INSERT, shared by the requests that arrive together.

On this kind of machine a committed INSERT costs far more than the statement: the round trip, the
commit's WAL flush (an fsync) and, in both the web process and the database, waking up after it.
Requests that arrive while another request of the same process is writing therefore wait for it
to finish and are then written together, in one multi-row INSERT (one statement, one commit) by
the first of them ("group commit"). Nothing waits on a timer: a request that finds nobody
writing writes at once, alone. A request is answered only after the statement holding its row
committed; when it failed, every request in it gets the error (the statement is all or nothing,
so no row of it was stored).

The writer is always one of the waiting requests, on its own thread's connection, so there is no
thread or connection of our own to look after, and a request whose connection is in a host's
transaction (``ATOMIC_REQUESTS``, a test) is written alone inside it, as before.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import DatabaseError, InterfaceError, OperationalError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from ..conf import app_settings
from ..models import WebhookEvent

logger = logging.getLogger(__name__)

#: The columns filled on every request; every other column takes its model default.
_PER_REQUEST = ("provider", "body", "headers", "remote_addr", "received_at", "queued_at")

#: At most this many rows, and (past the first row) this many body bytes, per statement.
MAX_ROWS = 64
MAX_BYTES = 8 * 1024 * 1024


class _Row(NamedTuple):
    params: tuple[Any, ...]  # the per-request columns, adapted for the database
    size: int  # body bytes


@lru_cache(maxsize=256)
def _insert_statement(alias: str, vendor: str, rows: int) -> tuple[str, tuple[Any, ...], bool]:
    """(SQL for ``rows`` rows, the constant parameters of one row, whether it returns the ids).

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
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    features = connection.features
    returning = bool(
        features.can_return_columns_from_insert if rows == 1 else features.can_return_rows_from_bulk_insert
    )
    # Names from the model, quoted; values only as parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES {', '.join([one] * rows)}"  # noqa: S608
    if returning:
        sql += f" RETURNING {quote(str(meta.pk.column))}"
    return sql, tuple(constants), returning


def _row(
    connection: BaseDatabaseWrapper, provider: str, body: bytes, headers: dict, remote_addr: str | None
) -> _Row:
    """One request's values, adapted in the request's own thread (no connection is needed for it)."""
    meta = WebhookEvent._meta
    now = meta.get_field("received_at").get_db_prep_save(timezone.now(), connection)
    return _Row(
        (
            provider,
            body,
            meta.get_field("headers").get_db_prep_save(headers, connection),
            meta.get_field("remote_addr").get_db_prep_save(remote_addr, connection),
            now,
            now,  # queued_at: waiting from the INSERT on (see WebhookEventQuerySet)
        ),
        len(body),
    )


def _cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor for the INSERT; on psycopg 3 one that sends the values apart from the SQL.

    Django's default psycopg cursor binds on the client: every value, the body included, is
    quoted into the SQL text (measured: about 0.2 ms more client CPU per INSERT than sending the
    values as parameters, bytes as binary, and less work for PostgreSQL too). Only this
    statement's cursor is changed; it is wrapped as Django wraps its own, so it is logged and
    counted the same.
    """
    binding = getattr(connection, "ServerBindingCursor", None) if connection.vendor == "postgresql" else None
    if binding is None or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return connection.cursor()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = binding(connection.connection)
    connection.validate_thread_sharing()
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _insert(connection: BaseDatabaseWrapper, rows: list[_Row]) -> list[int]:
    """Write ``rows`` in one statement when the database can say every id, else one by one in a transaction."""
    sql, constants, returning = _insert_statement(connection.alias, connection.vendor, len(rows))
    if len(rows) > 1 and not returning:
        with transaction.atomic(using=connection.alias):
            return [_insert(connection, [row])[0] for row in rows]
    params = [value for row in rows for value in (*row.params, *constants)]
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        if not returning:
            return [int(cursor.lastrowid)]
        # Ids are drawn in the order of the VALUES, increasing; sorted, whatever order they come back in.
        return sorted(int(found[0]) for found in cursor.fetchall())


def _write(alias: str, rows: list[_Row]) -> list[int]:
    """Store ``rows`` in one transaction on this thread's connection; their ids once committed.

    In autocommit the statement is its own transaction, so returning means committed. Django's
    per-request health check (a ``SELECT 1`` before the first query when ``CONN_HEALTH_CHECKS`` is
    on) is a round trip on every webhook; here it is skipped and a reused connection that turns
    out dead (the database restarted since) is replaced and the INSERT tried once more, which is
    what the check would have done. A duplicate from a lost answer to a committed INSERT is
    harmless: processing converges on the same rows. Inside a host's transaction nothing is
    retried (the transaction is gone with the connection).
    """
    connection = connections[alias]
    reused = connection.connection is not None and not connection.in_atomic_block
    if reused:
        connection.health_check_done = True  # type: ignore[attr-defined]  # Django's own flag (4.1+)
    try:
        return _insert(connection, rows)
    except (OperationalError, InterfaceError):
        if not reused or (connection.connection is not None and connection.is_usable()):
            raise
    logger.warning("webhook: the database connection was dead; storing again on a new one")
    connection.close()
    return _insert(connection, rows)


# --- group commit --------------------------------------------------------------------------------


class _Ticket:
    """One request's row while it waits: released (``done``) with its id or error, or to write."""

    __slots__ = ("done", "error", "event_id", "leads", "row")

    def __init__(self, row: _Row) -> None:
        self.row = row
        self.done = threading.Lock()
        self.done.acquire()  # the waiting request blocks on it; the writer releases it
        self.event_id = 0
        self.error: BaseException | None = None
        self.leads = False  # released to write the next statement, not with a result


class GroupCommit:
    """The rows of one database waiting for a statement, and whether one is being written.

    Invariant (under ``_mutex``): rows wait only while a request is writing. The writer takes the
    waiting rows (``MAX_ROWS``/``MAX_BYTES`` at most), writes them, and when more arrived
    meanwhile hands the writing to the first of those before answering its own request.
    """

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self._mutex = threading.Lock()
        self._waiting: list[_Ticket] = []
        self._writing = False

    def store(self, row: _Row) -> int:
        ticket = _Ticket(row)
        with self._mutex:
            self._waiting.append(ticket)
            writes = not self._writing
            self._writing = True
        if not writes:
            ticket.done.acquire()
            if not ticket.leads:
                return self._result(ticket, own=False)
        self._lead(ticket)
        return self._result(ticket, own=True)

    def _lead(self, own: _Ticket) -> None:
        with self._mutex:
            batch = self._take()
        try:
            ids = _write(self.alias, [ticket.row for ticket in batch])
            if len(ids) != len(batch):
                raise DatabaseError(f"stored {len(batch)} webhooks but the database returned {len(ids)} ids")
        except BaseException as error:  # every request of the statement must hear of it, whatever it is
            for ticket in batch:
                ticket.error = error
        else:
            for ticket, event_id in zip(batch, ids, strict=True):
                ticket.event_id = event_id
        finally:
            with self._mutex:
                successor = self._waiting[0] if self._waiting else None
                if successor is None:
                    self._writing = False
                else:
                    successor.leads = True
            for ticket in batch:
                if ticket is not own:
                    ticket.done.release()
            if successor is not None:
                successor.done.release()

    def _take(self) -> list[_Ticket]:
        waiting = self._waiting
        count, size = 1, waiting[0].row.size
        while count < min(len(waiting), MAX_ROWS) and size + waiting[count].row.size <= MAX_BYTES:
            size += waiting[count].row.size
            count += 1
        self._waiting = waiting[count:]
        return waiting[:count]

    @staticmethod
    def _result(ticket: _Ticket, *, own: bool) -> int:
        error = ticket.error
        if error is None:
            return ticket.event_id
        if own:
            raise error
        # Raised in another thread: each request gets an exception of its own, of the same kind
        # for the view (a database error answers 503), pointing at the original.
        if isinstance(error, DatabaseError):
            raise DatabaseError(f"the statement storing this webhook failed: {error}") from error
        raise RuntimeError(f"the statement storing this webhook failed: {error!r}") from error


_groups: dict[str, GroupCommit] = {}
_groups_lock = threading.Lock()


def _group(alias: str) -> GroupCommit:
    group = _groups.get(alias)
    if group is None:
        with _groups_lock:
            group = _groups.setdefault(alias, GroupCommit(alias))
    return group


def _forget_groups() -> None:
    """In a forked child: the parent's waiting rows and locks are not this process's."""
    global _groups_lock
    _groups.clear()
    _groups_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_groups)


def store_received(*, provider: str, body: bytes, headers: dict[str, str], remote_addr: str | None) -> int:
    """Store one webhook as a pending event; its id once it is committed (raises if it was not).

    In autocommit the row joins the group commit of its database (see the module docstring);
    in a host's transaction it is inserted there, alone, and committed with the host's work.
    """
    alias = router.db_for_write(WebhookEvent)
    connection = connections[alias]
    row = _row(connection, provider, body, headers, remote_addr)
    if (
        connection.in_atomic_block
        or not connection.settings_dict["AUTOCOMMIT"]
        or not app_settings.GROUP_COMMIT
    ):
        return _write(alias, [row])[0]
    return _group(alias).store(row)
