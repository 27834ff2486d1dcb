"""``python -m bench.campaign_stats``: a campaign's numbers with 100 000 leads, on PostgreSQL.

Creates its own database (``wl_bench_stats`` by default; dropped afterwards), writes the leads
with ``bulk_create`` (spread over 60 days, ten reps, every status, plus leads of another campaign
that the figures must leave out) and their engagement metrics and SLA breaches in a few SQL
statements, then times ``campaign_numbers``, the admin numbers page (HTML), the API's numbers
(JSON) and a rep's own numbers page: first with 1 000 leads, then with 100 000, printing the query
counts of both (they must be equal: the run fails if a count grew) and the median ms. Writes
``numbers.*`` into ``bench-results/latest.json``, keeping the other benches' keys. Asserts nothing
about speed.
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
    parser.add_argument(
        "--small-leads",
        type=int,
        default=1_000,
        help="measured first with this many, to compare query counts",
    )
    parser.add_argument("--other-leads", type=int, default=20_000, help="leads of another campaign")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--days", type=int, default=60, help="the leads' creation times span this many days")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each measurement")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    return parser.parse_args(argv)


def setup_django(url: str, **env: str) -> None:
    """Django on the bench database ``url``, with a throwaway secret; ``env``: more variables to set."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bharatcrm.settings",
            "DATABASE_URL": url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            **env,
        }
    )
    import django

    django.setup()


def seed(args: argparse.Namespace) -> dict[str, Any]:
    """The measured campaign (with a 10 min SLA), its reps and the other campaign; no leads yet."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from whatsapp_leads.models import Campaign

    User = get_user_model()
    perms = Permission.objects.filter(
        content_type__app_label="whatsapp_leads", codename__in=["view_lead", "change_lead"]
    )
    reps = []
    for n in range(args.reps):
        rep = User.objects.create_user(username=f"stats-rep-{n}", first_name=f"Rep {n}", is_staff=True)
        rep.user_permissions.add(*perms)
        reps.append(rep)
    sla = {"first_response_sla": timedelta(minutes=10), "sla_clock": Campaign.SlaClock.WALL}
    campaign = Campaign.objects.create(name="Home loans (bench)", meta_id="120226305854800101", **sla)
    other = Campaign.objects.create(name="Other campaign (bench)", meta_id="120226305854800102", **sla)
    return {"campaign": campaign, "other": other, "reps": reps, "rng": random.Random(4), "next": 0}


def add_leads(world: dict[str, Any], target: Any, count: int, *, days: int) -> None:
    """``count`` more leads of ``target`` with bulk_create, then, in a few SQL statements over the new
    rows only: creation times spread over ``days``, engagement metrics (80% answered in 30 s to 1 h;
    of the rest, half still inside the SLA and half breached) and an ``SlaBreach`` per breached lead."""
    from django.db import connection

    from whatsapp_leads.models import Lead, SlaBreach

    rng, reps = world["rng"], world["reps"]
    started = time.perf_counter()
    first = world["next"]
    batch: list[Lead] = []
    for n in range(first, first + count):
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
    world["next"] = first + count
    lead_table, breach_table = Lead._meta.db_table, SlaBreach._meta.db_table
    new = f"wa_id >= '91{first:010d}' AND wa_id < '91{first + count:010d}'"
    with connection.cursor() as cursor:
        # created_at is set on insert; spread it over the past days (and hours) in one statement.
        cursor.execute(
            f"UPDATE {lead_table} SET created_at = now() "
            "- (id %% %s) * interval '1 day' - (id * 7 %% 1440) * interval '1 minute' "
            f"WHERE {new}",
            [days],
        )
        cursor.execute(
            f"""UPDATE {lead_table} SET
              first_inbound_at = created_at, last_inbound_at = created_at, inbound_count = 1 + id % 4,
              first_response_seconds = CASE WHEN id % 10 < 8 THEN 30 + (id * 37) % 3600 END,
              first_response_business_seconds = CASE WHEN id % 10 < 8 THEN 30 + ((id * 37) % 3600) / 2 END,
              first_reply_at = CASE WHEN id % 10 < 8 THEN created_at + (30 + (id * 37) % 3600) * interval '1 second' END,
              response_count = CASE WHEN id % 10 < 8 THEN 1 ELSE 0 END,
              response_seconds_total = CASE WHEN id % 10 < 8 THEN 30 + (id * 37) % 3600 ELSE 0 END,
              outbound_count = CASE WHEN id % 10 < 8 THEN 1 + id % 3 ELSE 0 END,
              awaiting_reply_since = CASE WHEN id % 10 >= 8 THEN created_at END,
              sla_started_at = created_at,
              sla_due_at = CASE WHEN id % 10 = 8 THEN now() + interval '5 minutes' END,
              sla_breached_at = CASE WHEN id % 10 = 9 OR (id % 10 < 8 AND 30 + (id * 37) % 3600 > 600)
                THEN created_at + interval '10 minutes' END
            WHERE {new}"""  # noqa: S608 (table names from the models, no input)
        )
        cursor.execute(
            f"""INSERT INTO {breach_table}
              (lead_id, campaign_id, owner_id, new_owner_id, sla, clock, level, started_at, due_at, action,
               detail, breached_at)
            SELECT id, campaign_id, owner_id, NULL, interval '10 minutes', 'wall', 1, created_at,
              created_at + interval '10 minutes', 'notified', '', sla_breached_at
            FROM {lead_table} WHERE {new} AND sla_breached_at IS NOT NULL"""  # noqa: S608
        )
        cursor.execute(f"ANALYZE {lead_table}")
        cursor.execute(f"ANALYZE {breach_table}")
    print(f"added {count} leads (metrics, breaches) in {time.perf_counter() - started:.1f}s", flush=True)


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


def measure(world: dict[str, Any], *, repeat: int) -> dict[str, Any]:
    """The service, the admin numbers page, the API's numbers and a rep's own page: queries and ms."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from whatsapp_leads.services.campaign_stats import campaign_numbers

    campaign = world["campaign"]
    numbers = campaign_numbers(campaign)
    print(
        f"  figures: {numbers.total} leads, {numbers.won} won, conversion {numbers.conversion:.1%}, "
        f"{len(numbers.per_rep)} owners, busiest day {numbers.busiest_day}, "
        f"by status {[(s, n) for s, _, n in numbers.by_status]}",
        flush=True,
    )
    figures: dict[str, Any] = {
        "service": timed("campaign_numbers()", lambda: campaign_numbers(campaign), repeat=repeat)
    }

    User = get_user_model()
    admin = User.objects.filter(username="stats-admin").first() or User.objects.create_superuser(
        username="stats-admin", password=None
    )
    client = Client()
    client.force_login(admin)
    rep_client = Client()
    rep_client.force_login(world["reps"][0])
    pages = {
        "admin_page": (client, reverse("admin:whatsapp_leads_campaign_numbers", args=[campaign.pk])),
        "api": (client, reverse("whatsapp_leads:campaign-numbers", args=[campaign.pk])),
        "rep_page": (rep_client, reverse("admin:whatsapp_leads_my_numbers")),
    }
    for name, (who, url) in pages.items():

        def page(who: Any = who, url: str = url) -> None:
            response = who.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        figures[name] = timed(f"{name} {url}", page, repeat=repeat)
    body = client.get(pages["api"][1]).json()["response"]["total"]
    print(
        f"  response figures: median {body['median_seconds']} s, p90 {body['p90_seconds']} s, "
        f"within SLA {body['within_sla_share']}, unanswered {body['unanswered']}",
        flush=True,
    )
    return figures


def write(small: dict[str, Any], large: dict[str, Any], *, args: argparse.Namespace) -> None:
    """``numbers.*`` keys in bench-results/latest.json (the other benches' keys are kept)."""
    import json

    results = database.REPO_DIR / "bench-results" / "latest.json"
    results.parent.mkdir(exist_ok=True)
    report = json.loads(results.read_text()) if results.exists() else {}
    report["numbers"] = {
        "leads": args.leads,
        "small_leads": args.small_leads,
        "service_ms": large["service"]["median_ms"],
        "service_queries": large["service"]["queries"],
        "admin_ms": large["admin_page"]["median_ms"],
        "admin_max_ms": large["admin_page"]["max_ms"],
        "admin_queries": large["admin_page"]["queries"],
        "api_ms": large["api"]["median_ms"],
        "api_max_ms": large["api"]["max_ms"],
        "api_queries": large["api"]["queries"],
        "rep_page_ms": large["rep_page"]["median_ms"],
        "rep_page_max_ms": large["rep_page"]["max_ms"],
        "rep_page_queries": large["rep_page"]["queries"],
        "queries_at_small": {name: small[name]["queries"] for name in small},
        "ms_at_small": {name: small[name]["median_ms"] for name in small},
    }
    results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"numbers figures written to {results.relative_to(database.REPO_DIR)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    print(f"campaign stats bench: database {database.database_name(args.database_url)}", flush=True)
    database.recreate(args.database_url)
    setup_django(args.database_url)
    try:
        world = seed(args)
        add_leads(world, world["campaign"], args.small_leads, days=args.days)
        print(f"with {args.small_leads} leads:", flush=True)
        small = measure(world, repeat=args.repeat)
        add_leads(world, world["campaign"], args.leads - args.small_leads, days=args.days)
        add_leads(world, world["other"], args.other_leads, days=args.days)
        print(f"with {args.leads} leads:", flush=True)
        large = measure(world, repeat=args.repeat)
        changed = {name: (small[name]["queries"], large[name]["queries"]) for name in small}
        print(f"queries at {args.small_leads} and {args.leads} leads: {changed}", flush=True)
        write(small, large, args=args)
        if any(a != b for a, b in changed.values()):
            print("the query count grew with the leads", file=sys.stderr, flush=True)
            return 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database.drop(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
