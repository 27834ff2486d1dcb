"""``python -m bench.sla_backlog``: the first-response SLA checker against 100 000 overdue leads.

The issue's bound: a backlog of 100 000 overdue leads is worked in batches without holding long
locks. This seeds that backlog on PostgreSQL in a few SQL statements (half on a notifying
campaign, half on a re-assigning one with five reps), then runs the real checker
(``services.sla.breaches.check_due``) batch by batch and prints, per slice of the run, how long
one batch's transaction lasted (the time its row locks are held), breaches per second, the
database's row locks held between batches (must be 0) and the process's RSS. By default it works
``--batches`` batches and stops (the cost per batch is flat, so the rest of the backlog is a
multiplication, printed); ``--all`` drains everything. Writes ``sla.*`` into
``bench-results/latest.json`` (other keys kept). Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import sys
import time
from typing import Any

from . import campaign_stats, database


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_backlog", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_SLA_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wl_bench_sla"),
    )
    parser.add_argument("--leads", type=int, default=100_000, help="overdue leads in the backlog")
    parser.add_argument("--batch-size", type=int, default=100, help="the checker's SLA_BATCH_SIZE")
    parser.add_argument("--batches", type=int, default=40, help="batches to work (ignored with --all)")
    parser.add_argument("--all", action="store_true", help="drain the whole backlog")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    return parser.parse_args(argv)


def _setup_django(url: str) -> None:
    """The stats bench's Django setup, with e-mails going nowhere: the bench measures the checker,
    not a mail server (``send_mail`` reads the backend at each call)."""
    campaign_stats.setup_django(url)
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


def seed(count: int) -> None:
    """Two campaigns with a 10 min SLA (notify, reassign), five reps each, ``count`` overdue leads."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection

    from whatsapp_leads.models import Campaign, CampaignMember, Lead

    started = time.perf_counter()
    User = get_user_model()
    sla = {"first_response_sla": timedelta(minutes=10), "sla_clock": Campaign.SlaClock.WALL}
    notify = Campaign.objects.create(name="Notify (bench)", sla_action="notify", **sla)
    reassign = Campaign.objects.create(name="Reassign (bench)", sla_action="reassign", **sla)
    reps: dict[int, list[int]] = {}
    for campaign in (notify, reassign):
        reps[campaign.pk] = []
        for n in range(5):
            user = User.objects.create_user(
                username=f"sla-{campaign.pk}-{n}", email=f"r{campaign.pk}{n}@x.test"
            )
            CampaignMember.objects.create(campaign=campaign, user=user)
            reps[campaign.pk].append(user.pk)
    batch: list[Lead] = []
    for n in range(count):
        campaign = notify if n % 2 == 0 else reassign
        batch.append(
            Lead(
                wa_id=f"91{n:010d}",
                phone=f"+91{n:010d}",
                name=f"Lead {n}",
                campaign=campaign,
                owner_id=reps[campaign.pk][n % 5],
                status=Lead.Status.NEW,
            )
        )
        if len(batch) == 5000:
            Lead.objects.bulk_create(batch)
            batch.clear()
    Lead.objects.bulk_create(batch)
    table = Lead._meta.db_table
    with connection.cursor() as cursor:
        # Every lead wrote between 3 h and 1 h ago, nobody answered: all are overdue (10 min SLA).
        cursor.execute(
            f"""UPDATE {table} SET
                  first_inbound_at = now() - interval '3 hours' + (id % 7200) * interval '1 second',
                  inbound_count = 1, unread_count = 1
                WHERE TRUE"""  # noqa: S608 (the table name comes from the model)
        )
        cursor.execute(
            f"""UPDATE {table} SET last_inbound_at = first_inbound_at, awaiting_reply_since = first_inbound_at,
                  sla_started_at = first_inbound_at, sla_due_at = first_inbound_at + interval '10 minutes'
                WHERE TRUE"""  # noqa: S608
        )
        cursor.execute(f"ANALYZE {table}")
    print(f"seeded {count} overdue leads in {time.perf_counter() - started:.1f}s", flush=True)


def _locks_held() -> int:
    """Write transactions our session holds open right now (between batches there must be none).

    PostgreSQL keeps row locks in the rows themselves, not in ``pg_locks``; what it does list is
    the ``transactionid`` lock every writing transaction holds on its own id until it ends, and
    that is what the rows' locks hang on. 0 means the batch's row locks are gone.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'transactionid'"
        )
        return int(cursor.fetchone()[0])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from whatsapp_leads.models import Lead
    from whatsapp_leads.services.sla.breaches import check_due

    class Enough(Exception):
        """Raised from the batch callback to stop after ``--batches`` (after that batch committed)."""

    durations: list[float] = []
    locks: list[int] = []
    rss: list[float] = []
    applied = 0
    mark = time.perf_counter()
    began = mark

    def on_batch(breaches: list[Any]) -> None:
        nonlocal mark, applied
        # on_batch runs once the batch's transaction has committed: the time since the previous
        # mark is that batch's select + apply + commit, i.e. how long its locks were held at most.
        now = time.perf_counter()
        durations.append(now - mark)
        applied += len(breaches)
        locks.append(_locks_held())
        rss.append(_rss_mb())
        if len(durations) % 10 == 0:
            print(
                f"  batch {len(durations):5d}: {1000 * statistics.median(durations[-10:]):7.1f} ms per batch, "
                f"{applied / (now - began):6.0f} breaches/s, open write transactions between batches {locks[-1]}, "
                f"RSS {rss[-1]:.0f} MB",
                flush=True,
            )
        if not args.all and len(durations) >= args.batches:
            raise Enough
        mark = time.perf_counter()

    due_before = Lead.objects.filter(sla_due_at__lte=timezone.now()).count()
    connection.ensure_connection()
    with contextlib.suppress(Enough):
        check_due(batch_size=args.batch_size, on_batch=on_batch, keep_breaches=False)
    elapsed = time.perf_counter() - began
    due_after = Lead.objects.filter(sla_due_at__lte=timezone.now()).count()
    per_second = applied / elapsed if elapsed else 0.0
    return {
        "backlog_leads": due_before,
        "batch_size": args.batch_size,
        "batches": len(durations),
        "breaches_applied": applied,
        "still_due": due_after,
        "breaches_per_second": round(per_second, 1),
        "batch_ms_median": round(1000 * statistics.median(durations), 1) if durations else None,
        "batch_ms_max": round(1000 * max(durations), 1) if durations else None,
        "open_transactions_between_batches_max": max(locks, default=0),
        "rss_mb_first_batch": round(rss[0], 1) if rss else None,
        "rss_mb_last_batch": round(rss[-1], 1) if rss else None,
        "estimated_drain_seconds": round(due_before / per_second) if per_second else None,
    }


def write(figures: dict[str, Any]) -> None:
    import json

    results = database.REPO_DIR / "bench-results" / "latest.json"
    results.parent.mkdir(exist_ok=True)
    report = json.loads(results.read_text()) if results.exists() else {}
    report["sla"] = {**figures, "load_average": list(os.getloadavg())}
    results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"sla figures written to {results.relative_to(database.REPO_DIR)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    print(f"SLA backlog bench: database {database.database_name(args.database_url)}", flush=True)
    database.recreate(args.database_url)
    _setup_django(args.database_url)
    try:
        seed(args.leads)
        figures = run(args)
        for name, value in figures.items():
            print(f"  {name}: {value}", flush=True)
        print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        write(figures)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database.drop(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
