"""Group commit at intake: webhooks that arrive together are stored in one statement, none answered early.

Real threads and the real database (committed, so ``transaction=True``): the first writer is held
inside its statement until the others have queued behind it, so the test decides which rows
share a statement instead of hoping the scheduler does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import DatabaseError, DataError, connections, router, transaction
from django.test import Client
from django.utils import timezone

from tests.conftest import APP_SECRET
from whatsapp_leads.models import WebhookEvent
from whatsapp_leads.providers.meta.signature import sign
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.services import intake

pytestmark = pytest.mark.django_db(transaction=True)

FOLLOWERS = 3


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait for another thread to get somewhere (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


@pytest.fixture
def group() -> intake.GroupCommit:
    return intake._group(router.db_for_write(WebhookEvent))


@pytest.fixture
def statements(monkeypatch, group) -> Iterator[list[int]]:
    """Rows per statement written; the first statement waits until FOLLOWERS rows queued behind it."""
    written: list[int] = []
    real = intake._write

    def write(alias: str, rows: list[Any]) -> list[int]:
        written.append(len(rows))
        if len(written) == 1:
            _wait_until(lambda: len(group._waiting) == FOLLOWERS, "the other requests to queue")
        return real(alias, rows)

    monkeypatch.setattr(intake, "_write", write)
    yield written


def _in_threads(work: Callable[[int], Any], count: int, first_started: Callable[[], bool]) -> list[Any]:
    """Run ``work(n)`` for n in range(count), each in its own thread, n=0 first; results or exceptions."""
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        try:
            results[n] = work(n)
        except Exception as error:  # the test looks at it
            results[n] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    threads[0].start()
    _wait_until(first_started, "the first request to be writing")
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return results


def _post(n: int) -> Any:
    body = dumps(inbound(wa_id=f"9198{n:08d}", message_id=f"wamid.GROUP{n}"))
    return Client().generic(
        "POST",
        "/whatsapp/webhook/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body, APP_SECRET),
    )


def test_webhooks_arriving_while_one_is_written_are_stored_together_each_with_its_own_row(statements):
    responses = _in_threads(_post, FOLLOWERS + 1, lambda: len(statements) == 1)

    assert [getattr(r, "status_code", r) for r in responses] == [200] * (FOLLOWERS + 1)
    assert statements == [1, FOLLOWERS]  # the three that waited shared one statement
    stored = {bytes(e.body): e for e in WebhookEvent.objects.all()}
    assert len(stored) == FOLLOWERS + 1
    for n in range(FOLLOWERS + 1):
        assert f"wamid.GROUP{n}".encode() in b"".join(stored)  # every body, once
    assert all(e.status == WebhookEvent.Status.PENDING and e.queued_at for e in stored.values())


def test_each_request_of_a_shared_statement_gets_the_id_of_its_own_row(statements):
    def store(n: int) -> int:
        return intake.store_received(
            provider="meta", body=f"body {n}".encode(), headers={"n": str(n)}, remote_addr="127.0.0.1"
        )

    ids = _in_threads(store, FOLLOWERS + 1, lambda: len(statements) == 1)

    assert statements == [1, FOLLOWERS]
    assert len(set(ids)) == FOLLOWERS + 1
    for n, event_id in enumerate(ids):
        event = WebhookEvent.objects.get(pk=event_id)
        assert (bytes(event.body), event.headers) == (f"body {n}".encode(), {"n": str(n)})


def test_a_statement_that_fails_fails_every_request_in_it_and_stores_none_of_them(statements):
    """One row the database refuses (no received_at) makes the shared INSERT fail: nobody is told 200."""
    connection = connections[router.db_for_write(WebhookEvent)]

    def store(n: int) -> int:
        row = intake._row(connection, "meta", f"body {n}".encode(), {}, None)
        if n == 2:  # received_at NULL: a NOT NULL column
            row = row._replace(params=(*row.params[:4], None, row.params[5]))
        return intake._group(router.db_for_write(WebhookEvent)).store(row)

    results = _in_threads(store, FOLLOWERS + 1, lambda: len(statements) == 1)

    assert statements == [1, FOLLOWERS]
    assert isinstance(results[0], int)  # written alone, before the others arrived
    assert all(isinstance(r, DatabaseError) for r in results[1:]), results
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [results[0]]


def test_after_a_failed_statement_every_waiting_webhook_is_refused_with_503_and_the_next_is_stored(
    monkeypatch, statements
):
    real = intake._insert

    def insert(connection, rows):
        if len(rows) > 1:
            raise DataError("the database refused the statement")
        return real(connection, rows)

    monkeypatch.setattr(intake, "_insert", insert)
    responses = _in_threads(_post, FOLLOWERS + 1, lambda: len(statements) == 1)

    assert [r.status_code for r in responses] == [200] + [503] * FOLLOWERS
    assert WebhookEvent.objects.count() == 1
    assert not intake._group(router.db_for_write(WebhookEvent))._writing  # nobody holds the writing

    assert _post(9).status_code == 200
    assert WebhookEvent.objects.count() == 2


def test_a_writer_that_dies_unexpectedly_still_releases_the_requests_waiting_on_it(monkeypatch, statements):
    real = intake._insert

    def insert(connection, rows):
        if len(rows) > 1:
            raise RuntimeError("a bug")
        return real(connection, rows)

    monkeypatch.setattr(intake, "_insert", insert)

    def store(n: int) -> int:
        return intake.store_received(provider="meta", body=b"{}", headers={}, remote_addr=None)

    results = _in_threads(store, FOLLOWERS + 1, lambda: len(statements) == 1)

    assert isinstance(results[0], int)
    assert all(isinstance(r, RuntimeError) and not isinstance(r, DatabaseError) for r in results[1:])
    assert WebhookEvent.objects.count() == 1


def test_without_group_commit_each_webhook_is_its_own_statement(settings, monkeypatch):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "GROUP_COMMIT": False}
    group = intake._group(router.db_for_write(WebhookEvent))
    monkeypatch.setattr(group, "store", lambda row: pytest.fail("group commit is off"))
    first = intake.store_received(provider="meta", body=b"{}", headers={}, remote_addr=None)
    assert WebhookEvent.objects.get().pk == first
    assert WebhookEvent.objects.get().received_at <= timezone.now()


def _store(n: int) -> int:
    return intake.store_received(
        provider="meta", body=f"body {n}".encode(), headers={"n": str(n)}, remote_addr="127.0.0.1"
    )


@pytest.mark.postgres
def test_on_postgresql_a_webhook_arriving_while_a_statement_awaits_its_commit_is_written_alongside_it(
    monkeypatch, group
):
    """Two statements at the database at once; the requests arriving after that share the next one.

    Another transaction holds a lock the INSERT needs, so each statement that reaches the database
    stays there, sent and unanswered, until the test lets go.
    """
    written: list[int] = []
    real = intake._write
    monkeypatch.setattr(intake, "_write", lambda alias, rows: written.append(len(rows)) or real(alias, rows))
    locked, release = threading.Event(), threading.Event()

    def hold_the_table() -> None:
        try:
            with transaction.atomic(), connection_for_test().cursor() as cursor:
                cursor.execute(f"LOCK TABLE {WebhookEvent._meta.db_table} IN SHARE MODE")
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    results: list[Any] = [None] * 4

    def request(n: int) -> None:
        try:
            results[n] = _store(n)
        except Exception as error:  # the test looks at it
            results[n] = error
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    assert locked.wait(20)
    threads = [threading.Thread(target=request, args=(n,)) for n in range(4)]
    try:
        threads[0].start()
        _wait_until(lambda: group._sent == 1, "the first statement to reach the database")
        threads[1].start()  # finds one statement at the database: written at once, alongside it
        _wait_until(lambda: group._sent == 2, "the second statement to reach the database")
        assert written == [1, 1] and not group._waiting
        threads[2].start()  # both statements are there: waits, and so does the next
        threads[3].start()
        _wait_until(lambda: len(group._waiting) == 2, "the last two requests to queue")
        assert written == [1, 1]
    finally:
        release.set()
        holder.join(timeout=30)
        for thread in threads:
            if thread.ident:  # started
                thread.join(timeout=60)
    assert written == [1, 1, 2]  # the two that waited shared the next statement
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 4
    for n, event_id in enumerate(results):
        assert bytes(WebhookEvent.objects.get(pk=event_id).body) == f"body {n}".encode()
    assert not group._writing


def connection_for_test() -> Any:
    return connections[router.db_for_write(WebhookEvent)]


def test_only_postgresql_takes_a_second_statement_while_one_awaits_its_commit(group):
    expected = intake.MAX_AT_DATABASE if connection_for_test().vendor == "postgresql" else 1
    assert group.at_once == expected


def test_the_stored_row_has_the_request_s_headers_and_address_and_the_model_s_defaults():
    event_id = intake.store_received(
        provider="meta", body=b"{}", headers={"user-agent": "Bot/1 ü", "x-n": "2"}, remote_addr="2001:db8::1"
    )
    event = WebhookEvent.objects.get(pk=event_id)
    assert event.headers == {"user-agent": "Bot/1 ü", "x-n": "2"}
    assert event.remote_addr == "2001:db8::1"
    assert (event.status, event.attempts, event.update_count, event.error, event.traceback) == (
        WebhookEvent.Status.PENDING,
        0,
        0,
        "",
        "",
    )
    assert event.queued_at == event.received_at


@pytest.mark.postgres
def test_on_psycopg_3_the_insert_sends_its_values_apart_from_the_sql():
    psycopg = pytest.importorskip("psycopg")
    connection = connection_for_test()
    with intake._cursor(connection) as cursor:
        assert isinstance(cursor.cursor, psycopg.Cursor)
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)  # Django's default binds on the client


def _prepared_inserts() -> int:
    with connection_for_test().cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO %%webhookevent%%'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_on_psycopg_3_the_insert_is_prepared_once_per_connection_and_django_s_statements_are_not():
    pytest.importorskip("psycopg")
    connection = connection_for_test()
    connection.close()  # a session of its own: none of the other tests' statements
    first, second = _store(1), _store(2)

    assert _prepared_inserts() == 1  # the same statement both times
    assert connection.connection.prepare_threshold is None  # Django's own queries stay unprepared
    WebhookEvent.objects.filter(pk__in=[first, second]).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 1


@pytest.mark.postgres
def test_an_insert_whose_prepared_statement_vanished_is_stored_unprepared_and_the_connection_stops_preparing(
    caplog,
):
    """What a pooler in transaction mode does to a session's statements: DEALLOCATE stands in for it."""
    pytest.importorskip("psycopg")
    connection = connection_for_test()
    connection.close()
    _store(1)
    assert _prepared_inserts() == 1
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")

    stored = _store(2)

    assert bytes(WebhookEvent.objects.get(pk=stored).body) == b"body 2"
    assert "sending unprepared" in caplog.text
    _store(3)
    assert _prepared_inserts() == 0
    assert WebhookEvent.objects.count() == 3


@pytest.mark.postgres
def test_with_django_s_setting_for_a_transaction_pooler_the_insert_is_not_prepared(monkeypatch):
    pytest.importorskip("psycopg")
    connection = connection_for_test()
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    _store(1)
    _store(2)
    assert _prepared_inserts() == 0
    assert WebhookEvent.objects.count() == 2
