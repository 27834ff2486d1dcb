"""``python -m bench.statuses_bench``: status updates per second, and where their time goes.

The "statuses" run of ``python -m bench`` (sent, delivered and read of each outbound message,
one status per webhook, stored as pending events), alone and measurable step by step:

1. In process: ``services.drain.drain`` on this process's connection, timed, with every SQL
   statement and every commit counted, so a figure comes with statements per batch and CPU ms
   per status (this process only: PostgreSQL's own work is the rest of the wall time).
   ``--profile`` runs the drain under cProfile and prints the top 25 by cumulative time.
2. ``--celery``: the same statuses again, drained by one real Celery worker (concurrency 1) as
   ``python -m bench`` does, woken as the webhook view wakes it.

A fresh database (``wlb_statuses`` unless told otherwise, see ``bench/database.py``), dropped at
the end unless ``--keep-db``. Every figure is printed with the machine's load average.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import database, seed
from .campaign_stats import setup_django


def _args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m bench.statuses_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--database-url",
        default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wlb_statuses"),
    )
    parser.add_argument("--redis-url", default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--messages", type=int, default=2000, help="sent messages, 3 statuses each")
    parser.add_argument("--batch-size", type=int, default=None, help="DRAIN_BATCH_SIZE (in process)")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process drain, top 25")
    parser.add_argument("--celery", action="store_true", help="also drain with one real Celery worker")
    parser.add_argument("--worker-timeout", type=float, default=300.0)
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


def _setup_django(url: str, redis_url: str) -> None:
    setup_django(
        url, CELERY_BROKER_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="false", WHATSAPP_DEFAULT_OWNER=""
    )


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _backend_cpu() -> float | None:
    """CPU seconds (user + system) of this connection's PostgreSQL backend so far, when it runs on
    this machine (``/proc``): the database's share of the work, which the wall time mixes with load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _counting() -> Iterator[Counter[str]]:
    """Every statement this connection runs (by its first word) and every commit that writes, while inside."""
    from django.db import connection

    seen: Counter[str] = Counter()

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen["statements"] += 1
        verb = sql.lstrip().split(None, 1)[0].upper()
        seen[verb] += 1
        if not connection.in_atomic_block and verb in {"INSERT", "UPDATE", "DELETE", "WITH"}:
            seen["commits"] += 1  # autocommit: a write statement outside a transaction is one
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            TIMINGS[sql[:90]] += time.perf_counter() - began
            CALLS[sql[:90]] += 1

    connection.ensure_connection()
    original = connection._commit  # type: ignore[attr-defined]

    def commit() -> None:
        seen["commits"] += 1
        original()

    connection._commit = commit  # type: ignore[attr-defined]
    try:
        with connection.execute_wrapper(wrapper):
            yield seen
    finally:
        connection._commit = original  # type: ignore[attr-defined]


TIMINGS: dict[str, float] = defaultdict(float)  # seconds per statement (its first 90 characters)
CALLS: Counter[str] = Counter()


def _store(messages: int, offset: int) -> tuple[list[str], list[int]]:
    wamids = seed.outbound_messages(messages, user_offset=offset)
    return wamids, seed.store_bodies(seed.status_payloads(wamids))


def _check(wamids: list[str], ids: list[int]) -> None:
    """Every event processed once, every message read, every report kept and applied."""
    from whatsapp_leads.models import Message, StatusUpdate, WebhookEvent

    ours = WebhookEvent.objects.filter(pk__in=ids)
    bad = ours.exclude(status=WebhookEvent.Status.PROCESSED).count()
    if bad:
        example = ours.exclude(status=WebhookEvent.Status.PROCESSED).values_list("error", flat=True).first()
        raise SystemExit(f"{bad} status events not processed, e.g. {example!r}")
    if ours.exclude(attempts=1).exists():
        raise SystemExit("some status events were run more than once")
    if Message.objects.filter(wamid__in=wamids).exclude(status="read").exists():
        raise SystemExit("some messages did not end read")
    kept = StatusUpdate.objects.filter(wamid__in=wamids)
    if kept.count() != 3 * len(wamids) or kept.filter(applied=False).exists():
        raise SystemExit("status reports missing or not applied")


def in_process(args: argparse.Namespace, *, offset: int) -> dict[str, Any]:
    from django.conf import settings

    from whatsapp_leads.conf import app_settings
    from whatsapp_leads.services import drain

    # One drain for the lot: no hand-over to a worker when the (profiled) run passes DRAIN_MAX_SECONDS.
    overrides: dict[str, Any] = {"DRAIN_MAX_SECONDS": 3600}
    if args.batch_size:
        overrides["DRAIN_BATCH_SIZE"] = args.batch_size
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, **overrides}
    app_settings.reload()
    wamids, ids = _store(args.messages, offset)
    profiler = cProfile.Profile() if args.profile else None
    backend = _backend_cpu()
    with _counting() as seen:
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        report = drain.drain()
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    backend_after = _backend_cpu()
    load = _load()
    _check(wamids, ids)
    batches = max(1, report.batches)
    figures = {
        "statuses": len(ids),
        "batch_size": int(app_settings.DRAIN_BATCH_SIZE),
        "batches": report.batches,
        "seconds": round(wall, 3),
        "statuses_per_second": round(len(ids) / wall, 1),
        "statements_per_batch": round(seen["statements"] / batches, 1),
        "commits_per_batch": round(seen["commits"] / batches, 1),
        "cpu_ms_per_status": round(1000 * cpu / len(ids), 3),
        "postgres_cpu_ms_per_status": (
            round(1000 * (backend_after - backend) / len(ids), 3)
            if backend is not None and backend_after is not None
            else None
        ),
        "statements": dict(seen.most_common()),
        "load_average": load,
    }
    print(
        f"  in process: {len(ids)} statuses in {wall:.2f}s = {figures['statuses_per_second']}/s;"
        f" batch {figures['batch_size']}, {report.batches} batches,"
        f" {figures['statements_per_batch']} statements + {figures['commits_per_batch']} commits per batch,"
        f" {figures['cpu_ms_per_status']} CPU ms per status here"
        f" + {figures['postgres_cpu_ms_per_status']} in PostgreSQL's backend (load {load})",
        flush=True,
    )
    print(f"  statements: {figures['statements']}", flush=True)
    if args.profile:
        print("  slowest statements (total ms, calls, SQL head):", flush=True)
        for sql, seconds in sorted(TIMINGS.items(), key=lambda item: -item[1])[:12]:
            print(f"    {1000 * seconds:8.1f} {CALLS[sql]:5d}  {sql}", flush=True)
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue(), flush=True)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue(), flush=True)
    return figures


def with_celery(args: argparse.Namespace, *, offset: int) -> dict[str, Any]:
    """The same run through one real worker, timed as ``python -m bench`` times it."""
    from .__main__ import drain as drain_with_worker

    wamids = seed.outbound_messages(args.messages, user_offset=offset)
    bodies = seed.status_payloads(wamids)
    log_dir = Path(tempfile.mkdtemp(prefix="wl-statuses-bench-"))
    result = drain_with_worker(args, name="statuses (celery worker)", bodies=bodies, log_dir=log_dir)
    result["statuses_per_second"] = result["per_second"]
    return result


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    print(
        f"statuses bench: database {database.database_name(args.database_url)},"
        f" {args.messages} messages x 3 statuses, load {_load()}",
        flush=True,
    )
    database.recreate(args.database_url)
    _setup_django(args.database_url, args.redis_url)
    try:
        figures: dict[str, Any] = {"in_process": in_process(args, offset=30_000_000)}
        if args.celery:
            figures["celery"] = with_celery(args, offset=31_000_000)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database.drop(args.database_url)
    print(f"load average now: {_load()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
