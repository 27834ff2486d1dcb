"""``python -m bench.campaign_stats``: a campaign's numbers with 100 000 leads, on PostgreSQL.

Creates its own database (``wl_bench_stats`` by default; dropped afterwards), writes the leads
with ``bulk_create`` (spread over 60 days, ten reps, every status, plus leads of another campaign
that the figures must leave out), then times ``campaign_numbers`` and the admin page that shows
them. Prints the figures, the query count and the timings; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from . import database

STATUS_MIX = (["new"] * 30) + (["contacted"] * 25) + (["qualified"] * 20) + (["won"] * 10) + (["lost"] * 15)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.campaign_stats", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_STATS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wl_bench_stats"
        ),
    )
    parser.add_argument("--leads", type=int, default=100_000, help="leads of the measured campaign")
    parser.add_argument("--other-leads", type=int, default=20_000, help="leads of another campaign")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--days", type=int, default=60, help="the leads' creation times span this many days")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each measurement")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    return parser.parse_args(argv)


def _setup_django(url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bharatcrm.settings",
            "DATABASE_URL": url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
        }
    )
    import django

    django.setup()


def seed(args: argparse.Namespace) -> Any:
    """The measured campaign with its leads; returns the campaign."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from whatsapp_leads.models import Campaign, Lead

    rng = random.Random(4)  # the same leads on every run
    User = get_user_model()
    reps = [User.objects.create_user(username=f"stats-rep-{n}", is_staff=True) for n in range(args.reps)]
    campaign = Campaign.objects.create(name="Home loans (bench)", meta_id="120226305854800101")
    other = Campaign.objects.create(name="Other campaign (bench)", meta_id="120226305854800102")

    def leads(target: Campaign, count: int, offset: int) -> None:
        batch: list[Lead] = []
        for n in range(offset, offset + count):
            batch.append(
                Lead(
                    wa_id=f"91{n:010d}",
                    phone=f"+91{n:010d}",
                    name=f"Lead {n}",
                    campaign=target,
                    status=rng.choice(STATUS_MIX),
                    owner=rng.choice(reps) if rng.random() > 0.02 else None,
                )
            )
            if len(batch) == 5000:
                Lead.objects.bulk_create(batch)
                batch.clear()
        Lead.objects.bulk_create(batch)

    started = time.perf_counter()
    leads(campaign, args.leads, 0)
    leads(other, args.other_leads, args.leads)
    # created_at is set on insert; spread it over the past days (and hours) in one statement.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Lead._meta.db_table} SET created_at = now() "
            "- (id %% %s) * interval '1 day' - (id * 7 %% 1440) * interval '1 minute'",
            [args.days],
        )
        cursor.execute(f"ANALYZE {Lead._meta.db_table}")
    print(
        f"seeded {args.leads} + {args.other_leads} leads in {time.perf_counter() - started:.1f}s", flush=True
    )
    return campaign


def timed(what: str, run: Callable[[], Any], *, repeat: int) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run()  # warm: connection, plans, caches
    seconds = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - started)
    figures = {
        "queries": len(queries.captured_queries),
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }
    print(f"  {what}: {figures}", flush=True)
    return figures


def measure(campaign: Any, *, repeat: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from whatsapp_leads.services.campaign_stats import campaign_numbers

    numbers = campaign_numbers(campaign)
    print(
        f"  figures: {numbers.total} leads, {numbers.won} won, conversion {numbers.conversion:.1%}, "
        f"{len(numbers.per_rep)} owners, busiest day {numbers.busiest_day}, "
        f"by status {[(s, n) for s, _, n in numbers.by_status]}",
        flush=True,
    )
    service = timed("campaign_numbers()", lambda: campaign_numbers(campaign), repeat=repeat)

    admin = get_user_model().objects.create_superuser(username="stats-admin", password=None)
    client = Client()
    client.force_login(admin)
    url = reverse("admin:whatsapp_leads_campaign_numbers", args=[campaign.pk])

    def page() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")

    admin_page = timed(f"admin page {url}", page, repeat=repeat)
    return {"service": service, "admin_page": admin_page}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    print(f"campaign stats bench: database {database.database_name(args.database_url)}", flush=True)
    database.recreate(args.database_url)
    _setup_django(args.database_url)
    try:
        campaign = seed(args)
        measure(campaign, repeat=args.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database.drop(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
