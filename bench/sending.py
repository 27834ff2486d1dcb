"""``python -m bench.sending`` (part of ``make bench``): the outbox against the local fake Cloud API.

1. Sends per second through one Celery worker (concurrency 1, no rate limit): queued text
   messages to leads whose window is open, until every one is accepted by the fake.
2. The per-number bound under two workers (concurrency 2 each) with ``SEND_RATE_PER_NUMBER``
   set low: the most sends the fake received in any sliding second, which must stay at the bound.

Real processes on loopback: PostgreSQL (its own database), Redis (its own database) and the fake
Cloud API served from this process (``tests/support/fake_graph.py``). Results go to
``bench-results/sending.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from scripts.processes import REPO_DIR, celery_worker, flush_redis_db, wait_for

from . import database

RESULTS = REPO_DIR / "bench-results" / "sending.json"
PHONE_NUMBER_ID = "106540352242922"


def _args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench.sending", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wl_bench") + "_send",
    )
    parser.add_argument("--redis-url", default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--sends", type=int, default=400, help="messages for the one-worker phase")
    parser.add_argument("--bound", type=int, default=20, help="SEND_RATE_PER_NUMBER for the two-worker phase")
    parser.add_argument("--bound-sends", type=int, default=100, help="messages for the two-worker phase")
    parser.add_argument("--timeout", type=float, default=300.0)
    return parser.parse_args(argv)


def _setup_django(args: argparse.Namespace) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bharatcrm.settings",
            "DATABASE_URL": args.database_url,
            "CELERY_BROKER_URL": args.redis_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
    )
    import django

    django.setup()


def _leads(count: int, *, offset: int) -> list[Any]:
    from django.utils import timezone

    from whatsapp_leads.models import Conversation, Lead

    at = timezone.now() - timedelta(minutes=5)
    leads = Lead.objects.bulk_create(
        Lead(
            wa_id=f"91980{offset + n:07d}",
            phone=f"+91980{offset + n:07d}",
            name=f"Bench {n}",
            last_message_at=at,
        )
        for n in range(count)
    )
    Conversation.objects.bulk_create(
        Conversation(lead=lead, phone_number_id=PHONE_NUMBER_ID, last_inbound_at=at, last_message_at=at)
        for lead in leads
    )
    return leads


def _queue(leads: list[Any]) -> None:
    from whatsapp_leads.services.outbound import outbox

    for lead in leads:
        outbox.queue_send(lead, kind="text", content={"body": f"Hello {lead.name}"}, origin="api")


def _accepted() -> int:
    from whatsapp_leads.models import Message

    return Message.objects.filter(send_state="accepted").count()


def max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + 1.0:
            j += 1
        best = max(best, j - i)
    return best


def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    from tests.support.fake_graph import FakeGraph

    fake = FakeGraph()
    with fake.serve():
        env = {
            "META_GRAPH_URL": fake.base_url,
            "META_GRAPH_VERSION": fake.version,
            "WHATSAPP_ACCESS_TOKEN": fake.token,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        }
        # 1: one worker, no bound
        _queue(_leads(args.sends, offset=0))
        print(f"phase 1: {args.sends} queued sends through one worker (concurrency 1)", flush=True)
        with celery_worker(database_url=args.database_url, broker_url=args.redis_url, concurrency=1,
                           log_dir=log_dir, env={**env, "WHATSAPP_SEND_RATE_PER_NUMBER": "0"}):  # fmt: skip
            wait_for(lambda: len(fake.sent) >= 1, timeout=args.timeout, what="the first send")
            first = fake.sent[0].at
            wait_for(
                lambda: _accepted() >= args.sends,
                timeout=args.timeout,
                what=f"{args.sends} sends",
                interval=0.05,
            )
        last = fake.sent[-1].at
        one_worker = (args.sends - 1) / (last - first) if last > first else None
        print(f"  {args.sends} accepted; {one_worker:.1f} sends/s (first to last)", flush=True)

        # 2: two workers, bounded
        fake.sent.clear()
        flush_redis_db(args.redis_url)
        before = _accepted()
        _queue(_leads(args.bound_sends, offset=args.sends))
        print(
            f"phase 2: {args.bound_sends} sends, two workers, SEND_RATE_PER_NUMBER={args.bound}", flush=True
        )
        bounded_env = {**env, "WHATSAPP_SEND_RATE_PER_NUMBER": str(args.bound)}
        with (
            celery_worker(database_url=args.database_url, broker_url=args.redis_url, concurrency=2,
                          log_dir=log_dir, env=bounded_env),
            celery_worker(database_url=args.database_url, broker_url=args.redis_url, concurrency=2,
                          log_dir=log_dir, env=bounded_env),
        ):  # fmt: skip
            wait_for(lambda: _accepted() - before >= args.bound_sends, timeout=args.timeout,
                     what=f"{args.bound_sends} bounded sends", interval=0.05)  # fmt: skip
        times = [s.at for s in fake.sent]
        peak = max_in_any_second(times)
        overall = (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else None
        held = peak <= args.bound
        print(f"  peak {peak} sends in any second (bound {args.bound}); {overall:.1f} sends/s overall; "
              f"{'held' if held else 'NOT HELD'}", flush=True)  # fmt: skip
    return {
        "one_worker_sends_per_second": round(one_worker, 1) if one_worker else None,
        "one_worker_sends": args.sends,
        "bound": args.bound,
        "two_workers_peak_per_second": peak,
        "two_workers_sends_per_second": round(overall, 1) if overall else None,
        "bound_held": held,
    }


def main(argv: list[str] | None = None) -> int:
    import tempfile

    args = _args(argv)
    database.recreate(args.database_url)
    flush_redis_db(args.redis_url)
    _setup_django(args)
    log_dir = Path(tempfile.mkdtemp(prefix="wl-bench-send-"))
    try:
        report = run(args, log_dir)
    except BaseException:
        print(f"sending bench failed; worker logs are in {log_dir}", file=sys.stderr)
        raise
    finally:
        from django.db import connections

        connections.close_all()
        flush_redis_db(args.redis_url)
        database.drop(args.database_url)
    print(f"\nsends_per_second_one_worker={report['one_worker_sends_per_second']}  "
          f"bound={report['bound']} peak={report['two_workers_peak_per_second']} held={report['bound_held']}")  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **report},
                                  indent=2) + "\n")  # fmt: skip
    print(f"results written to {RESULTS.relative_to(REPO_DIR)}")
    return 0 if report["bound_held"] else 1


if __name__ == "__main__":
    sys.exit(main())
