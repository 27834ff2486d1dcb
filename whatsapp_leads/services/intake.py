"""Storing a received webhook: one precompiled INSERT, shared by the requests that arrive together.

On this kind of machine a committed INSERT costs far more than the statement: the round trip, the
commit's WAL flush (an fsync) and, in both the web process and the database, waking up after it.
Requests that arrive while another request of the same process is writing may therefore wait for
it and are then written together, in one multi-row INSERT (one statement, one commit) by the first
of them ("group commit"). Nothing waits on a timer: a request that finds the way free writes at
once, alone. On PostgreSQL the way is free while fewer than two statements of the process await
their commit (see ``GroupCommit``): with only one, requests of one process were written strictly
one after another, each waiting out the previous commit, which capped a process at one commit
per round trip whatever the database could flush. A request is answered only after the statement
holding its row committed; when it failed, every request in it gets the error (the statement is
all or nothing, so no row of it was stored).

The writer is always one of the waiting requests, on its own thread's connection, so there is no
thread or connection of our own to look after, and a request whose connection is in a host's
transaction (``ATOMIC_REQUESTS``, a test) is written alone inside it, as before.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import weakref
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
#: Statements of one process at a PostgreSQL database at once (see GroupCommit).
MAX_AT_DATABASE = 2

#: The group commit writer's ``hook``, called once its statement is on its way to the database.
_sending = threading.local()

#: psycopg connections whose prepared statements were found gone (see ``_insert_cursor_classes``).
_unprepared: weakref.WeakSet[Any] = weakref.WeakSet()
#: A ``prepare_threshold`` no count reaches: only a statement executed with ``prepare=True`` is prepared.
_ONLY_WHEN_ASKED = 1 << 62


class _Row(NamedTuple):
    params: tuple[Any, ...]  # the per-request columns, adapted for the database
    size: int  # body bytes


#: A constant that reads the same as an SQL literal in every dialect, quoted or not.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_ .:-]*")


def _literal(value: Any) -> str | None:
    """``value`` written into the SQL when no quoting rule can differ for it (an int, plain text), else None."""
    if isinstance(value, int) and not isinstance(value, bool):  # psycopg's Int4 and the like too
        return str(int(value))
    if isinstance(value, str) and _PLAIN_TEXT.fullmatch(value):  # a TextChoices member too: its value
        return f"'{str.__str__(value)}'"
    return None


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
    placeholders = ["%s"] * len(columns)
    for field in meta.concrete_fields:
        if field.primary_key or field.name in _PER_REQUEST:
            continue
        if field.null and not field.has_default():
            continue  # NULL, as the ORM would write it
        default = field.get_default()  # the declared default, or "" for a text column
        if default is None:
            raise TypeError(f"WebhookEvent.{field.name} has no default: the webhook view cannot store it")
        columns.append(str(field.column))
        value = field.get_db_prep_save(default, connection)
        literal = _literal(value) if connection.vendor == "postgresql" else None
        if literal is None:
            constants.append(value)
        placeholders.append(literal or "%s")
    names = ", ".join(quote(column) for column in columns)
    one = "(" + ", ".join(placeholders) + ")"
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
    now = timezone.now()
    if connection.vendor == "postgresql":
        # What the fields' get_db_prep_save() would hand the driver, minus its wrappers: the
        # headers as the JSON text JSONField writes and the address as text, both sent untyped
        # and converted by PostgreSQL to the column's type (jsonb, inet), which also checks them.
        return _Row((provider, body, json.dumps(headers), remote_addr or None, now, now), len(body))
    meta = WebhookEvent._meta
    now = meta.get_field("received_at").get_db_prep_save(now, connection)
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


@lru_cache(maxsize=1)
def _insert_cursor_classes() -> tuple[type, type] | None:
    """(Django's psycopg 3 cursor that binds on the server, the same preparing its statements), or None.

    Django's class is an attribute of its backend module (not of the connection wrapper) and
    exists only with psycopg 3.
    """
    from django.db.backends.postgresql import base

    binding = getattr(base, "ServerBindingCursor", None)
    if binding is None:
        return None
    from psycopg import errors, pq

    lost = (errors.InvalidSqlStatementName, errors.DuplicatePreparedStatement)

    class PreparingCursor(binding):  # type: ignore[misc,valid-type]
        """Runs each statement as a prepared statement of its connection (psycopg keeps them by SQL).

        Parsed and planned once per connection instead of on every webhook (measured: about
        0.08 ms less PostgreSQL CPU per INSERT). Django leaves psycopg's preparing off
        (``prepare_threshold`` None, for poolers), so it is switched on for this statement alone.
        A connection whose statements do not stay prepared, as behind a pooler in transaction
        mode, is noticed by its error, and its INSERTs are then sent unprepared.
        """

        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
        ) -> Any:
            conn = self.connection
            if conn in _unprepared:
                return super().execute(query, params, binary=binary)
            saved = conn.prepare_threshold
            if saved is None:
                conn.prepare_threshold = _ONLY_WHEN_ASKED
            try:
                return super().execute(query, params, prepare=True, binary=binary)
            except lost:
                _unprepared.add(conn)
                if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                    raise  # in a host's transaction, which the error ended: nothing to retry in
                logger.warning(
                    "webhook: prepared statements do not stay on this connection; sending unprepared"
                )
                conn.prepare_threshold = None  # psycopg would still use the statement it knows
                return super().execute(query, params, binary=binary)
            finally:
                conn.prepare_threshold = saved

    return binding, PreparingCursor


def _prepares(connection: BaseDatabaseWrapper) -> bool:
    """Whether the INSERT may be a prepared statement of the connection.

    Not when the host chose psycopg's ``prepare_threshold`` itself (that choice stands), nor with
    ``DISABLE_SERVER_SIDE_CURSORS``, Django's setting for a pooler in transaction mode, where a
    session's statements do not outlive the transaction.
    """
    settings_dict = connection.settings_dict
    return "prepare_threshold" not in settings_dict["OPTIONS"] and not settings_dict.get(
        "DISABLE_SERVER_SIDE_CURSORS"
    )


def _cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor for the INSERT; on psycopg 3 one that sends the values apart from the SQL, prepared.

    Django's default psycopg cursor binds on the client: every value, the body included, is
    quoted into the SQL text (measured: about 0.2 ms more client CPU per INSERT than sending the
    values as parameters, bytes as binary, and less work for PostgreSQL too). Only this
    statement's cursor is changed; it is wrapped as Django wraps its own, so it is logged and
    counted the same.
    """
    classes = _insert_cursor_classes() if connection.vendor == "postgresql" else None
    if classes is None:
        return connection.cursor()
    connection.ensure_connection()
    if connection.queries_logged or connection.execute_wrappers:  # someone is watching queries
        with connection.wrap_database_errors:
            raw = classes[_prepares(connection)](connection.connection)
        connection.validate_thread_sharing()
        return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    raw_connection = connection.connection
    kept = _kept_cursors.get(raw_connection)
    if kept is None or kept.closed:
        with connection.wrap_database_errors:
            kept = classes[_prepares(connection)](raw_connection)
        _kept_cursors[raw_connection] = kept
    return _KeptCursor(connection, kept)


#: The INSERT's psycopg cursor of each connection, kept from one webhook to the next.
_kept_cursors: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


class _KeptCursor:
    """A connection's kept INSERT cursor, used as Django's ``CursorWrapper`` would be.

    Making a cursor and Django's wrapper around it for every webhook was ~17 µs of the view's
    ~0.3 ms of Python. The cursor stays with its connection (a new connection gets its own);
    database errors still come out as Django's, and still mark the connection (``errors_occurred``)
    so it is checked after the request. PostgreSQL only (its INSERT returns the ids, so no
    ``lastrowid``). Used only when nothing logs or wraps queries
    (``DEBUG``, ``assertNumQueries``, ``execute_wrapper``): then the INSERT goes through Django's
    wrapper as every other query does.
    """

    __slots__ = ("cursor", "db")

    def __init__(self, db: BaseDatabaseWrapper, cursor: Any) -> None:
        self.db = db
        self.cursor = cursor

    def __enter__(self) -> _KeptCursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None  # kept open for the next webhook on this connection

    def execute(self, sql: str, params: list[Any]) -> Any:
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            return self.cursor.execute(sql, params)

    def fetchall(self) -> list[Any]:
        with self.db.wrap_database_errors:
            return list(self.cursor.fetchall())


def _insert(connection: BaseDatabaseWrapper, rows: list[_Row]) -> list[int]:
    """Write ``rows`` in one statement when the database can say every id, else one by one in a transaction."""
    sql, constants, returning = _insert_statement(connection.alias, connection.vendor, len(rows))
    if len(rows) > 1 and not returning:
        with transaction.atomic(using=connection.alias):
            return [_insert(connection, [row])[0] for row in rows]
    params = [value for row in rows for value in (*row.params, *constants)]
    with _cursor(connection) as cursor:
        hook = getattr(_sending, "hook", None)
        if hook is not None:
            hook()  # the group commit's writer: its statement is at the database from here on
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
    """The rows of one database waiting for a statement, and the statements being written.

    One request at a time prepares a statement (holds the "pen"): it takes its own row and those
    waiting behind it (``MAX_ROWS``/``MAX_BYTES`` at most) and sends them. Once the statement is
    at the database, awaiting its commit, the pen passes on: to the first waiting request, or to
    the next one to arrive, which writes at once. Up to ``at_once`` statements may be at the
    database together (on PostgreSQL 2: while one waits for its WAL flush, the next is already
    executing, so its commit makes the following flush; on other databases 1, as a single writer
    is what they allow); when all are there, requests wait and share the next statement.

    Invariant (under ``_mutex``): rows wait only while the pen is held or ``at_once`` statements
    are at the database. Whoever frees either (sending, finishing) hands the pen to the first
    waiting request.
    """

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.at_once = MAX_AT_DATABASE if connections[alias].vendor == "postgresql" else 1
        self._mutex = threading.Lock()
        self._waiting: list[_Ticket] = []
        self._pen = False  # a request is preparing a statement
        self._sent = 0  # statements at the database, awaiting their answer

    @property
    def _writing(self) -> bool:
        """Whether any request is preparing or awaiting a statement."""
        return self._pen or self._sent > 0

    def store(self, row: _Row) -> int:
        ticket = _Ticket(row)
        with self._mutex:
            self._waiting.append(ticket)
            writes = len(self._waiting) == 1 and not self._pen and self._sent < self.at_once
            if writes:
                self._pen = True
        if not writes:
            ticket.done.acquire()
            if not ticket.leads:
                return self._result(ticket, own=False)
        self._lead(ticket)
        return self._result(ticket, own=True)

    def _next_writer(self) -> _Ticket | None:
        """Under ``_mutex``: the waiting request that takes the pen now, if it is free to take."""
        if not self._waiting or self._pen or self._sent >= self.at_once:
            return None
        self._pen = True
        successor = self._waiting[0]  # stays first in line: it takes its batch from there
        successor.leads = True
        return successor

    def _lead(self, own: _Ticket) -> None:
        with self._mutex:
            batch = self._take()
        sent = False

        def at_database() -> None:
            nonlocal sent
            if sent:  # the retry on a new connection (see _write): already counted
                return
            sent = True
            with self._mutex:
                self._pen = False
                self._sent += 1
                successor = self._next_writer()
            if successor is not None:
                successor.done.release()

        _sending.hook = at_database
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
            _sending.hook = None
            with self._mutex:
                if sent:
                    self._sent -= 1
                else:  # failed before it reached the database
                    self._pen = False
                successor = self._next_writer()
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
