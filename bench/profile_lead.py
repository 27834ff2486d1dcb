"""``python -m bench.profile_lead``: what turning one new Click-to-WhatsApp ad lead into rows costs.

In-process, no worker or broker: a fresh database with the bench campaign (``seed``), ``--leads``
stored ad-click events from distinct users, run through ``processing.process_batch`` in batches
of ``--batch`` (as ``drain`` does). Prints SQL statements per new lead (every statement Django
sends, savepoints included), CPU ms per lead (``time.process_time``), wall ms and leads/s;
``--statements`` lists one lead's statements, ``--profile`` the cProfile top 20 by cumulative time.

PostgreSQL (``BENCH_DATABASE_URL``, default ``wlb_leads``) or SQLite (``--sqlite``, a throwaway file).
Both are dropped at the end. Figures are noisy on a shared machine: compare runs back to back.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import database, http_load, seed
from .campaign_stats import setup_django


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_lead", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wlb_leads"),
    )
    parser.add_argument("--sqlite", action="store_true", help="a throwaway SQLite file instead of PostgreSQL")
    parser.add_argument("--leads", type=int, default=500, help="new ad leads measured")
    parser.add_argument("--warmup", type=int, default=50, help="new ad leads processed before measuring")
    parser.add_argument("--batch", type=int, default=100, help="events per process_batch call")
    parser.add_argument("--statements", action="store_true", help="print the statements of one lead")
    parser.add_argument("--profile", action="store_true", help="cProfile top 20 (cumulative)")
    return parser.parse_args(argv)


def _setup_django(url: str) -> None:
    # Tasks queued on commit (greetings, notifications) run in-process instead of needing a broker.
    setup_django(url, CELERY_TASK_ALWAYS_EAGER="true", WHATSAPP_DEFAULT_OWNER="")


class _Counter:
    """An ``execute_wrapper``: counts statements, keeping their SQL while ``keep`` is set."""

    def __init__(self) -> None:
        self.count = 0
        self.keep = False
        self.kept: list[str] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        if self.keep:
            self.kept.append(sql)
        return execute(sql, params, many, context)


def _run(ids: list[int], batch: int) -> None:
    from whatsapp_leads.services import processing

    for start in range(0, len(ids), batch):
        outcomes = processing.process_batch(ids[start : start + batch])
        failed = [pk for pk, outcome in outcomes.items() if outcome.status != "processed"]
        if failed:
            from whatsapp_leads.models import WebhookEvent

            error = WebhookEvent.objects.filter(pk=failed[0]).values_list("error", flat=True).first()
            raise SystemExit(f"{len(failed)} events failed, e.g. {error}")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from whatsapp_leads.models import Lead

    seed.campaign_with_reps()
    warm = seed.store_bodies([http_load.bench_payload(n) for n in range(1_000_000, 1_000_000 + args.warmup)])
    _run(warm, args.batch)

    counter = _Counter()
    if args.statements:
        one = seed.store_bodies([http_load.bench_payload(2_000_000)])
        with connection.execute_wrapper(counter):
            counter.keep = True
            _run(one, 1)
            counter.keep = False
        print(f"statements of one new ad lead alone (a batch of 1, bookkeeping included): {counter.count}")
        for n, sql in enumerate(counter.kept, 1):
            print(f"  {n:2}. {sql[:300]}")
        counter = _Counter()

    ids = seed.store_bodies([http_load.bench_payload(n) for n in range(3_000_000, 3_000_000 + args.leads)])
    leads_before = Lead.objects.count()
    profiler = cProfile.Profile() if args.profile else None
    with connection.execute_wrapper(counter):
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        _run(ids, args.batch)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    created = Lead.objects.count() - leads_before
    newest = Lead.objects.filter(pk__in=Lead.objects.order_by("-pk")[: args.leads].values("pk"))
    assigned = newest.filter(owner__isnull=False, campaign__isnull=False).count()
    if created != args.leads or assigned != args.leads:
        raise SystemExit(f"{created} leads created ({assigned} assigned), {args.leads} expected")
    result = {
        "leads": args.leads,
        "statements_per_lead": round(counter.count / args.leads, 2),
        "cpu_ms_per_lead": round(cpu * 1000 / args.leads, 2),
        "wall_ms_per_lead": round(wall * 1000 / args.leads, 2),
        "leads_per_second": round(args.leads / wall, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)
    return result


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    tmp: Path | None = None
    if args.sqlite:
        tmp = Path(tempfile.mkdtemp(prefix="wl-profile-lead-"))
        url = f"sqlite:///{tmp / 'db.sqlite3'}"
    else:
        url = args.database_url
        database.recreate(url)
    _setup_django(url)
    try:
        if args.sqlite:
            from django.core.management import call_command

            call_command("migrate", "--noinput", verbosity=0)
        result = measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            database.drop(url)
    where = "SQLite" if args.sqlite else database.database_name(url)
    print(
        f"{where}: {result['leads']} new ad leads (batches of {args.batch}): "
        f"{result['statements_per_lead']} statements/lead, {result['cpu_ms_per_lead']} CPU ms/lead, "
        f"{result['wall_ms_per_lead']} wall ms/lead, {result['leads_per_second']} leads/s "
        f"(load {result['load_average']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
