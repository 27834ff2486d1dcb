"""``python -m bench.followups_bench``: inbound messages per second in one process, on PostgreSQL.

The worker's loop without Celery around it, so the figure is the cost of ``process_batch`` itself:
stored events are processed in batches of ``DRAIN_BATCH_SIZE``, in the order the drain claims
them. Two runs on a fresh database (``wlb_followups`` by default, recreated, dropped afterwards):
the inbound mix of ``make bench`` (``seed.mix_payloads``: 1 new ad lead in 5, the rest
follow-ups from leads already there) and pure follow-ups (plain texts from those leads). Each
prints messages/s, SQL statements per message, CPU ms per message of this process and of its
PostgreSQL backend, and the load. ``--profile`` prints the top of a cProfile of each run;
``--show-sql`` prints the statements of one follow-up. Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import database, seed
from .campaign_stats import setup_django

FOLLOW_UP_TEXT = "Thanks, and what is the interest rate?"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.followups_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wlb_followups"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"))
    parser.add_argument("--mix-events", type=int, default=3000, help="events of the inbound mix")
    parser.add_argument("--follow-ups", type=int, default=3000, help="events of the pure follow-ups run")
    parser.add_argument("--profile", action="store_true", help="cProfile each run, print the top")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one follow-up")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


def _setup_django(args: argparse.Namespace) -> None:
    setup_django(
        args.database_url,
        CELERY_BROKER_URL=args.redis_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        WHATSAPP_DEFAULT_OWNER="",
    )


def follow_up_payloads(users: range, *, round_: int) -> list[bytes]:
    """One plain text from each of ``users`` (bench users whose leads exist), new wamids per round."""
    from whatsapp_leads.providers.meta.simulation import dumps, inbound

    bodies = []
    for n in users:
        wa_id = f"91{n:010d}"
        bodies.append(
            dumps(
                inbound(
                    wa_id=wa_id,
                    name=f"Bench {n}",
                    text=FOLLOW_UP_TEXT,
                    message_id=f"wamid.HBgM{wa_id}MORE{round_:03d}{n:010d}",
                )
            )
        )
    return bodies


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements run inside the block (works with DEBUG off)."""
    from django.db import connection

    seen: list[str] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def _backend_cpu_seconds(pid: int) -> float:
    """utime + stime of the PostgreSQL backend serving us (same machine)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _messages_stored() -> int:
    from whatsapp_leads.models import Message

    return Message.objects.count()


def run(name: str, bodies: list[bytes], *, profile: bool) -> dict[str, Any]:
    """Store ``bodies`` as pending events and process them as one drain would; print the figures."""
    from django.db import connection

    from whatsapp_leads.conf import app_settings
    from whatsapp_leads.models import WebhookEvent
    from whatsapp_leads.services import processing

    ids = seed.store_bodies(bodies)
    size = max(1, int(app_settings.DRAIN_BATCH_SIZE))
    before = _messages_stored()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    profiler = cProfile.Profile() if profile else None
    db_cpu = _backend_cpu_seconds(backend)
    cpu = time.process_time()
    started = time.perf_counter()
    with counting() as statements:
        if profiler:
            profiler.enable()
        for start in range(0, len(ids), size):
            processing.process_batch(ids[start : start + size])
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    db_cpu = _backend_cpu_seconds(backend) - db_cpu
    failed = WebhookEvent.objects.filter(pk__in=ids, status=WebhookEvent.Status.FAILED)
    if failed.exists():
        raise SystemExit(f"{name}: {failed.count()} events failed, e.g. {failed.first().error}")  # type: ignore[union-attr]
    messages = _messages_stored() - before
    if messages != len(ids):
        raise SystemExit(f"{name}: {messages} messages stored for {len(ids)} events")
    result = {
        "events": len(ids),
        "seconds": round(seconds, 3),
        "messages_per_second": round(len(ids) / seconds, 1),
        "statements_per_message": round(len(statements) / len(ids), 2),
        "cpu_ms_per_message": round(cpu * 1000 / len(ids), 3),
        "db_cpu_ms_per_message": round(db_cpu * 1000 / len(ids), 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"  {name}: {len(ids)} messages in {seconds:.2f}s = {result['messages_per_second']} messages/s;"
        f" {result['statements_per_message']} statements/message; CPU {result['cpu_ms_per_message']} ms"
        f" (python) + {result['db_cpu_ms_per_message']} ms (postgres) per message;"
        f" load {result['load_average']}",
        flush=True,
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), flush=True)
    return result


def show_sql(user: int) -> None:
    """The statements one plain follow-up from an existing lead runs, one per line."""
    from whatsapp_leads.services import processing

    ids = seed.store_bodies(follow_up_payloads(range(user, user + 1), round_=999))
    with counting() as statements:
        processing.process_batch(ids)
    print(f"  one follow-up: {len(statements)} statements", flush=True)
    for sql in statements:
        print(f"    {sql[:300]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    print(f"followups bench: database {database.database_name(args.database_url)}", flush=True)
    print(f"  cpus={os.cpu_count()} load_average={[round(x, 2) for x in os.getloadavg()]}", flush=True)
    database.recreate(args.database_url)
    _setup_django(args)
    try:
        seed.campaign_with_reps()
        users = max(1, args.mix_events // 5)
        offset = 20_000_000
        mix = run(
            "inbound mix (1 new lead in 5)",
            seed.mix_payloads(users, user_offset=offset),
            profile=args.profile,
        )
        results: dict[str, Any] = {"mix": mix}
        rounds = (args.follow_ups + users - 1) // users
        bodies: list[bytes] = []
        for round_ in range(1, rounds + 1):
            bodies += follow_up_payloads(range(offset, offset + users), round_=round_)
        results["follow_ups"] = run("pure follow-ups", bodies[: args.follow_ups], profile=args.profile)
        if args.show_sql:
            show_sql(offset)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database.drop(args.database_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
