"""``python -m bench.admin_pages``: the sales workspace's admin pages with 100 000 leads and 1 000 000
messages, on PostgreSQL.

Creates its own database (``wl_bench_admin`` by default; dropped afterwards). Leads are written with
``bulk_create``; their conversations and ten messages each with ``INSERT ... SELECT
generate_series`` (every other column at its model default), so seeding takes seconds, not hours.
Then, logged in as one rep of twenty (5 000 leads), it times the inbox, the lead list and a lead's
page through Django's test client, counting queries, and writes ``admin.inbox_ms``,
``admin.lead_list_ms``, ``admin.lead_page_ms`` and ``admin.*_queries`` (medians) into
``bench-results/latest.json``, keeping what the other benches wrote there. Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Any

from . import database
from .campaign_stats import setup_django, timed

REPO_DIR = database.REPO_DIR
RESULTS = REPO_DIR / "bench-results" / "latest.json"
STATUS_MIX = (["new"] * 30) + (["contacted"] * 25) + (["qualified"] * 20) + (["won"] * 10) + (["lost"] * 15)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.admin_pages", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wl_bench_admin"
        ),
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--messages-per-lead", type=int, default=10)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each page")
    parser.add_argument("--keep-db", action="store_true", help="leave the database in place afterwards")
    return parser.parse_args(argv)


def insert_select(model: Any, *, source: str, values: dict[str, str]) -> None:
    """``INSERT INTO <model> (...) SELECT ... FROM <source>``: ``values`` gives some columns as SQL
    (``%`` written ``%%``), every other concrete column gets its model default as a parameter."""
    from django.db import connection

    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        if field.column in values:
            expressions.append(values[field.column])
            continue
        default = field.get_default()
        if default is None and not field.null:
            default = ""
        expressions.append("%s")
        params.append(field.get_db_prep_save(default, connection))
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
        f"SELECT {', '.join(expressions)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def seed(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.utils import timezone

    from whatsapp_leads.models import Campaign, Conversation, Lead, Message

    rng = random.Random(7)
    User = get_user_model()
    perms = Permission.objects.filter(
        content_type__app_label="whatsapp_leads", codename__in=["view_lead", "change_lead"]
    )
    reps = []
    for n in range(args.reps):
        rep = User.objects.create_user(username=f"bench-rep-{n}", is_staff=True)
        rep.user_permissions.add(*perms)
        reps.append(rep)
    campaigns = [
        Campaign.objects.create(name=f"Campaign {n}", meta_id=f"12022630585480{n:04d}") for n in range(20)
    ]
    now = timezone.now()
    started = time.perf_counter()
    batch: list[Lead] = []
    for n in range(args.leads):
        at = now - rng.random() * (now - now.replace(year=now.year - 1))
        waiting = rng.random() < 0.3
        batch.append(
            Lead(
                wa_id=f"91{n:010d}", phone=f"+91{n:010d}", name=f"Lead {n}", status=rng.choice(STATUS_MIX),
                owner=reps[n % len(reps)], campaign=campaigns[n % len(campaigns)], first_message="Hi",
                first_message_at=at, last_message_at=at, last_activity_at=at,
                awaiting_reply_since=at if waiting else None, unread_count=rng.randint(0, 3) if waiting else 0,
                last_message_preview="Is the offer still on?", last_message_direction="inbound",
            )
        )  # fmt: skip
        if len(batch) == 5000:
            Lead.objects.bulk_create(batch)
            batch.clear()
    Lead.objects.bulk_create(batch)
    lead_table = Lead._meta.db_table
    insert_select(
        Conversation,
        source=f'"{lead_table}" l',
        values={
            "lead_id": "l.id",
            "phone_number_id": "'106540352242922'",
            "started_at": "l.first_message_at",
            "last_message_at": "l.last_message_at",
            "last_inbound_at": "l.last_message_at",
            "message_count": str(int(args.messages_per_lead)),
            "created_at": "now()",
        },  # fmt: skip
    )
    conversation_table = Conversation._meta.db_table
    insert_select(
        Message,
        source=f'"{conversation_table}" c CROSS JOIN generate_series(1, {int(args.messages_per_lead)}) AS g(n)',
        values={
            "wamid": "'wamid.bench.' || c.id || '.' || g.n",
            "conversation_id": "c.id",
            "direction": "CASE WHEN g.n %% 2 = 0 THEN 'outbound' ELSE 'inbound' END",
            "type": "'text'",
            "text": "CASE WHEN g.n = 1 THEN 'Loan enquiry ref ' || c.id ELSE (ARRAY['Hi, I am interested in a home loan', 'What is the rate for 20 years?',"
            " 'Please call me after 6 pm', 'Is the offer still on?', 'Sending the documents now'])[1 + (c.id + g.n) %% 5] END",
            "timestamp": "c.started_at + g.n * interval '1 minute'",
            "created_at": "now()",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(f'SELECT count(*) FROM "{Message._meta.db_table}"')
        (messages,) = cursor.fetchone()
    print(
        f"seeded {args.leads} leads, {messages} messages in {time.perf_counter() - started:.1f}s", flush=True
    )
    rep = reps[0]
    lead = Lead.objects.filter(owner=rep).order_by("pk").first()
    conversation = Conversation.objects.filter(lead=lead).values_list("pk", flat=True).first()
    return {"rep": rep, "lead": lead, "messages": messages, "lead_conversation": conversation}


def measure(world: dict[str, Any], *, repeat: int) -> dict[str, Any]:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(world["rep"])
    pages = {
        "inbox": reverse("admin:whatsapp_leads_inbox"),
        "lead_list": reverse("admin:whatsapp_leads_lead_changelist"),
        "lead_page": reverse("admin:whatsapp_leads_lead_change", args=[world["lead"].pk]),
    }
    figures: dict[str, Any] = {}
    for name, url in pages.items():

        def page(url: str = url) -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        result = timed(f"{name} {url}", page, repeat=repeat)
        figures[f"{name}_ms"] = result["median_ms"]
        figures[f"{name}_max_ms"] = result["max_ms"]
        figures[f"{name}_queries"] = result["queries"]
    search = reverse("admin:whatsapp_leads_lead_changelist") + "?q=rate+for+20+years"
    result = timed(f"search {search}", lambda: client.get(search), repeat=repeat)
    figures["search_words_ms"], figures["search_words_queries"] = result["median_ms"], result["queries"]
    rare = reverse("admin:whatsapp_leads_lead_changelist") + f"?q=ref+{world['lead_conversation']}"
    result = timed(f"search {rare}", lambda: client.get(rare), repeat=repeat)
    figures["search_rare_word_ms"], figures["search_rare_word_queries"] = (
        result["median_ms"],
        result["queries"],
    )
    phone = reverse("admin:whatsapp_leads_lead_changelist") + "?q=00000-12340"
    result = timed(f"search {phone}", lambda: client.get(phone), repeat=repeat)
    figures["search_phone_ms"], figures["search_phone_queries"] = result["median_ms"], result["queries"]
    return figures


def write(figures: dict[str, Any], *, args: argparse.Namespace, messages: int) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    report = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report["admin"] = {
        **figures,
        "leads": args.leads,
        "messages": messages,
        "rep_leads": args.leads // args.reps,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"admin figures written to {RESULTS.relative_to(REPO_DIR)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    print(f"admin pages bench: database {database.database_name(args.database_url)}", flush=True)
    database.recreate(args.database_url)
    setup_django(args.database_url)
    try:
        world = seed(args)
        figures = measure(world, repeat=args.repeat)
        write(figures, args=args, messages=world["messages"])
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database.drop(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
