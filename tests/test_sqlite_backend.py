"""bharatcrm.sqlite: a busy database is waited for by retrying, never by failing at once.

SQLite's own wait is only a couple of milliseconds in this backend, so these tests prove the
retry loop: another *process* holds the write lock (``BEGIN IMMEDIATE``) while we write, and our
write must wait for its commit and then succeed. Nothing here asserts a duration.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connections, transaction
from django.db.utils import ConnectionHandler

from bharatcrm.sqlite.base import DatabaseWrapper, is_busy

# The other process: takes the write lock, says so, holds it until told, writes a row, commits.
HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("INSERT INTO item (source) VALUES ('holder')")
conn.execute("COMMIT")
print("committed", flush=True)
"""


def _wrapper(path: Path, **options: Any) -> DatabaseWrapper:
    """A connection of its own (not the test database's), made in the thread that will use it."""
    handler = ConnectionHandler(
        {"default": {"ENGINE": "bharatcrm.sqlite", "NAME": str(path), "OPTIONS": {"timeout": 30, **options}}}
    )
    wrapper = handler["default"]
    assert isinstance(wrapper, DatabaseWrapper)
    return wrapper


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker: Any) -> Iterator[None]:
    """These tests open their own files, never the test database: let them connect."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "contend.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, source TEXT NOT NULL)")
    return path


@pytest.fixture
def holder(db_file: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the write lock until a line is written to its stdin."""
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", HOLDER, str(db_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    # Let it finish on its own, never kill it while it exits: under coverage (make test) it writes
    # its data file at exit, and a kill then left a torn .coverage.lane-* file that `coverage
    # combine` warned about. Closing stdin releases it if the test did not (readline sees EOF).
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "committed"


def _in_thread(work: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _sources(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT source FROM item ORDER BY id")]


def test_pragmas_and_transaction_mode(db_file: Path) -> None:
    wrapper = _wrapper(db_file, synchronous="full")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2  # FULL
        assert wrapper.transaction_mode == "IMMEDIATE"
    finally:
        wrapper.close()
    default = _wrapper(db_file)
    try:
        with default.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL
    finally:
        default.close()


def test_a_wrong_synchronous_is_refused(db_file: Path) -> None:
    wrapper = _wrapper(db_file, synchronous="sometimes")
    with pytest.raises(ImproperlyConfigured, match="synchronous"):
        wrapper.ensure_connection()


def test_an_autocommit_write_waits_for_another_process(db_file: Path, holder: subprocess.Popen[str]) -> None:
    def insert() -> None:
        wrapper = _wrapper(db_file)
        try:
            with wrapper.cursor() as cursor:
                cursor.execute("INSERT INTO item (source) VALUES (%s)", ["autocommit"])
        finally:
            wrapper.close()

    thread, errors = _in_thread(insert)
    thread.join(0.3)
    assert thread.is_alive() and not errors  # still waiting: the other process holds the lock
    _release(holder)
    thread.join(30)
    assert not errors, errors
    assert _sources(db_file) == ["holder", "autocommit"]


def test_a_transaction_waits_at_begin_for_another_process(
    db_file: Path, holder: subprocess.Popen[str]
) -> None:
    def write_two() -> None:
        # atomic(using=...) finds the alias among this thread's connections: lend it ours.
        connections["contend"] = wrapper = _wrapper(db_file)
        try:
            with transaction.atomic(using="contend"), wrapper.cursor() as cursor:
                cursor.execute("INSERT INTO item (source) VALUES (%s)", ["first"])
                cursor.execute("INSERT INTO item (source) VALUES (%s)", ["second"])
        finally:
            del connections["contend"]
            wrapper.close()

    thread, errors = _in_thread(write_two)
    thread.join(0.3)
    assert thread.is_alive() and not errors
    _release(holder)
    thread.join(30)
    assert not errors, errors
    assert _sources(db_file) == ["holder", "first", "second"]


def test_waiting_ends_with_the_timeout(db_file: Path, holder: subprocess.Popen[str]) -> None:
    wrapper = _wrapper(db_file, timeout=0.05)
    try:
        with pytest.raises(OperationalError) as raised, wrapper.cursor() as cursor:
            cursor.execute("INSERT INTO item (source) VALUES (%s)", ["too late"])
        assert is_busy(raised.value.__cause__ or raised.value)
    finally:
        wrapper.close()
    _release(holder)
    assert _sources(db_file) == ["holder"]
