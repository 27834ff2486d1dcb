"""Django's SQLite backend tuned for two processes (web server and worker) writing one file.

- WAL: readers never wait for the writer, and a commit appends to the log instead of rewriting
  pages. ``synchronous`` (OPTIONS, ``NORMAL`` by default) decides when the log is fsynced; see
  the settings for what ``NORMAL`` gives up.
- Writes start with ``BEGIN IMMEDIATE``: the write lock is taken up front, so a transaction never
  fails half-way upgrading a read lock (which no wait can fix), only at its start.
- Waiting for the lock: SQLite's own busy handler sleeps ever longer (up to 100 ms a try) and
  is unfair, so a webhook INSERT wakes long after a drain batch committed and loses the lock to
  the next one. Here SQLite waits a millisecond or two and we retry every ``BUSY_POLL_SECONDS``
  until ``timeout`` (OPTIONS, seconds) has passed: the lock changes hands as soon as it is free.
  Only what may safely run again is retried: a ``BEGIN`` and a statement outside a transaction
  (it either took the lock and ran, or did nothing). Inside a transaction the error is raised.
  Without WAL (a file system that refuses it) SQLite's own handler keeps the whole timeout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.sqlite3 import base

T = TypeVar("T")

BUSY_POLL_SECONDS = 0.002
SQLITE_WAIT_MS = 2  # SQLite's own busy wait before we look again
SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's "database is locked" (another connection holds the write lock)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) == sqlite3.SQLITE_BUSY
    return "database is locked" in str(error)


class Connection(sqlite3.Connection):
    """A connection that knows how long a busy database may be waited for (``patience``, seconds)."""

    patience: float = 0.0

    def patiently(self, run: Callable[[], T]) -> T:
        """``run()``, retried every ``BUSY_POLL_SECONDS`` while the database is busy, for ``patience``."""
        deadline = time.monotonic() + self.patience
        while True:
            try:
                return run()
            except sqlite3.OperationalError as error:
                if not is_busy(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(BUSY_POLL_SECONDS)


class CursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor, retrying a busy statement when it is safe to (see the module docstring)."""

    connection: Connection

    def execute(self, query: str, params: Any = None) -> Any:
        conn = self.connection
        if conn.patience <= 0 or conn.in_transaction:
            return super().execute(query, params)
        return conn.patiently(lambda: base.SQLiteCursorWrapper.execute(self, query, params))

    def executemany(self, query: str, param_list: Any) -> Any:
        conn = self.connection
        if conn.patience <= 0 or conn.in_transaction:
            return super().executemany(query, param_list)
        param_list = list(param_list)  # a generator could not be replayed
        return conn.patiently(lambda: base.SQLiteCursorWrapper.executemany(self, query, param_list))


class DatabaseWrapper(base.DatabaseWrapper):
    """``ENGINE: "bharatcrm.sqlite"``; OPTIONS as Django's, plus ``synchronous`` (default NORMAL)."""

    transaction_mode: str | None
    synchronous: str = "NORMAL"
    patience: float = 0.0

    def get_connection_params(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_connection_params()  # OPTIONS merged in
        synchronous = str(kwargs.pop("synchronous", "NORMAL")).upper()
        if synchronous not in SYNCHRONOUS:
            raise ImproperlyConfigured(
                f"OPTIONS['synchronous'] must be one of {sorted(SYNCHRONOUS)}, not {synchronous!r}"
            )
        self.synchronous = synchronous
        self.patience = float(kwargs.get("timeout", 5))
        if self.transaction_mode is None:
            self.transaction_mode = "IMMEDIATE"
        kwargs["factory"] = Connection
        return kwargs

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        conn: Connection = super().get_new_connection(conn_params)
        if self.is_in_memory_db():
            return conn  # one connection, nobody to wait for
        (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        if str(mode).lower() == "wal":
            conn.execute(f"PRAGMA busy_timeout={SQLITE_WAIT_MS}")
            conn.patience = self.patience
        return conn

    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=CursorWrapper)
