"""``python -m bench`` (``make bench``): two figures from one run on one server setup.

1. Webhook intake: signed webhook POSTs per second that our view accepts *durably* (200 and a
   stored row, counted afterwards) divided by GETs per second of the bare Django view
   ``/healthz/``, both served by the same gunicorn (same workers, same database and broker).
   The ratio says what verifying, storing and queuing cost on top of Django itself.
2. Processing: inbound ad-click messages turned into assigned leads per second by one Celery
   worker with concurrency 1, on PostgreSQL, with the events queued in Redis beforehand.

The bench creates its own database (``wl_bench``), uses its own Redis database (``/7``), starts
and stops its own processes, and cleans up. Loopback only. Other load on the machine moves the
absolute numbers; the ratio is measured back to back on the same server to stay comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.processes import (
    REPO_DIR,
    ChildProcess,
    celery_worker,
    flush_redis_db,
    free_port,
    gunicorn_server,
    wait_for,
)

from . import database, http_load, seed

RESULTS_DIR = REPO_DIR / "bench-results"


def _args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wl_bench")
    )
    parser.add_argument("--redis-url", default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--requests", type=int, default=3000, help="requests per HTTP phase")
    parser.add_argument("--warmup", type=int, default=300, help="requests per warm-up phase")
    parser.add_argument("--clients", type=int, default=4, help="client processes (one connection each)")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="cap on each HTTP phase")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn -w")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn --worker-class")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn --threads (gthread)")
    parser.add_argument("--events", type=int, default=2000, help="events for the worker phase")
    parser.add_argument("--worker-timeout", type=float, default=300.0, help="cap on the worker phase")
    parser.add_argument("--keep-db", action="store_true", help="leave wl_bench in place afterwards")
    return parser.parse_args(argv)


def _setup_django(args: argparse.Namespace, secret: str) -> None:
    """This process writes seed rows and publishes tasks, so it runs Django on the bench database."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bharatcrm.settings",
            "DATABASE_URL": args.database_url,
            "CELERY_BROKER_URL": args.redis_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "WHATSAPP_APP_SECRET": secret,
            "WHATSAPP_DEFAULT_OWNER": "",
        }
    )
    import django

    django.setup()


def _phase(name: str, plan: http_load.Plan) -> http_load.Result:
    result = http_load.run(plan)
    print(
        f"  {name}: {result.ok} x 200 in {result.seconds:.2f}s = {result.rps:.1f} req/s"
        f"  statuses={dict(result.statuses)} errors={dict(result.errors)}",
        flush=True,
    )
    return result


def measure_intake(args: argparse.Namespace, *, secret: str, log_dir: Path) -> dict[str, Any]:
    """Phase 1: bare Django vs the webhook, on one gunicorn."""
    from whatsapp_leads.models import WebhookEvent

    port = free_port()
    common = {"port": port, "clients": args.clients, "max_seconds": args.max_seconds}
    server_env = {"WHATSAPP_APP_SECRET": secret}
    with gunicorn_server(
        database_url=args.database_url,
        broker_url=args.redis_url,
        port=port,
        workers=args.web_workers,
        worker_class=args.worker_class,
        threads=args.threads,
        log_dir=log_dir,
        env=server_env,
    ):
        print(
            f"gunicorn bharatcrm.wsgi -w {args.web_workers} --worker-class {args.worker_class} "
            f"--threads {args.threads} on 127.0.0.1:{port}; {args.clients} keep-alive clients",
            flush=True,
        )
        webhook = "/whatsapp/webhook/"
        _phase("warm-up /healthz/", http_load.Plan(path="/healthz/", requests=args.warmup, **common))
        warm = _phase(
            "warm-up webhook",
            http_load.Plan(path=webhook, requests=args.warmup, secret=secret, user_offset=0, **common),
        )
        bare = _phase(
            "bare Django /healthz/", http_load.Plan(path="/healthz/", requests=args.requests, **common)
        )
        hook = _phase(
            "signed webhook",
            http_load.Plan(
                path=webhook, requests=args.requests, secret=secret, user_offset=args.warmup, **common
            ),
        )
    stored = WebhookEvent.objects.count()
    accepted = warm.ok + hook.ok
    if stored != accepted:
        raise SystemExit(
            f"durability check failed: {accepted} webhooks answered 200 but {stored} rows stored"
        )
    print(f"  durability: {accepted} answered 200, {stored} rows stored", flush=True)
    return {
        "webhook_accept_rps": round(hook.rps, 1),
        "bare_django_rps": round(bare.rps, 1),
        "ratio": round(hook.rps / bare.rps, 3) if bare.rps else None,
        "webhook": {"ok": hook.ok, "seconds": round(hook.seconds, 3), "statuses": dict(hook.statuses)},
        "bare": {"ok": bare.ok, "seconds": round(bare.seconds, 3), "statuses": dict(bare.statuses)},
        "rows_stored": stored,
    }


def measure_worker(args: argparse.Namespace, *, log_dir: Path) -> dict[str, Any]:
    """Phase 2: pre-queued events through one worker (concurrency 1) until every one is processed."""
    from django.db.models import Max, Min

    from whatsapp_leads.models import Lead, WebhookEvent
    from whatsapp_leads.queueing import PROCESS_EVENT, publish

    # Phase 1's events were only intake: drop them and their queued tasks.
    flush_redis_db(args.redis_url)
    WebhookEvent.objects.all().delete()
    ids = seed.store_events(args.events, user_offset=10_000_000)
    queued = sum(publish(PROCESS_EVENT, pk) for pk in ids)
    if queued != len(ids):
        raise SystemExit(f"only {queued} of {len(ids)} events could be queued")
    print(f"  {len(ids)} ad-click events stored and queued; starting one worker (concurrency 1)", flush=True)

    done = WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED)
    worker: ChildProcess
    with celery_worker(
        database_url=args.database_url,
        broker_url=args.redis_url,
        concurrency=1,
        pool="prefork",
        log_dir=log_dir,
    ) as worker:
        started = time.perf_counter()
        wait_for(
            lambda: (
                done.count() + WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
                >= len(ids)
            ),
            timeout=args.worker_timeout,
            what=f"{len(ids)} events processed",
            interval=0.05,
        )
        seconds = time.perf_counter() - started
    leads = Lead.objects.filter(owner__isnull=False, campaign__isnull=False).count()
    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    if failed or leads != len(ids):
        worker.dump_log()
        raise SystemExit(f"worker phase: {failed} events failed, {leads} of {len(ids)} assigned leads")
    span = done.aggregate(first=Min("processed_at"), last=Max("processed_at"))
    busy = (span["last"] - span["first"]).total_seconds()
    rate = leads / seconds
    print(f"  {leads} assigned leads in {seconds:.2f}s = {rate:.1f} leads/s", flush=True)
    return {
        "worker_leads_per_second": round(rate, 1),
        "events": len(ids),
        "seconds": round(seconds, 3),
        # Between the first and the last completion: the same rate without the worker's start-up.
        "steady_leads_per_second": round((leads - 1) / busy, 1) if busy > 0 else None,
    }


def _reachable(url: str, default_port: int) -> bool:
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    for url, port, what in ((args.database_url, 5432, "PostgreSQL"), (args.redis_url, 6379, "Redis")):
        if not _reachable(url, port):
            print(
                f"make bench needs {what} at {url} (set BENCH_DATABASE_URL / BENCH_REDIS_URL)",
                file=sys.stderr,
            )
            return 2
    secret = secrets.token_hex(16)
    log_dir = Path(tempfile.mkdtemp(prefix="wl-bench-"))
    print(f"bench: database {database.database_name(args.database_url)}, broker {args.redis_url}", flush=True)
    print(f"  cpus={os.cpu_count()} load_average={os.getloadavg()}", flush=True)
    database.recreate(args.database_url)
    flush_redis_db(args.redis_url)
    _setup_django(args, secret)
    try:
        seed.campaign_with_reps()
        print("phase 1: webhook intake vs bare Django", flush=True)
        intake = measure_intake(args, secret=secret, log_dir=log_dir)
        print("phase 2: one worker turning queued messages into leads", flush=True)
        processing = measure_worker(args, log_dir=log_dir)
    except BaseException:
        print(f"bench failed; server and worker logs are in {log_dir}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    finally:
        from django.db import connections

        connections.close_all()
        flush_redis_db(args.redis_url)
        if not args.keep_db:
            database.drop(args.database_url)

    print()
    print(
        f"webhook_accept_rps={intake['webhook_accept_rps']}  bare_django_rps={intake['bare_django_rps']}"
        f"  ratio={intake['ratio']}"
    )
    print(f"worker_leads_per_second={processing['worker_leads_per_second']}")
    RESULTS_DIR.mkdir(exist_ok=True)
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_after": os.getloadavg(),
            "python": platform.python_version(),
        },
        "server": {
            "command": "gunicorn bharatcrm.wsgi",
            "workers": args.web_workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "clients": args.clients,
            "requests_per_phase": args.requests,
        },
        "intake": intake,
        "processing": processing,
    }
    out = RESULTS_DIR / "latest.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {out.relative_to(REPO_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
