"""``python -m bench`` (``make bench``): the figures of issue 12, from one run on one machine.

1. Webhook intake: signed webhook POSTs per second that our view accepts *durably* (200 and a
   stored row, counted afterwards) divided by GETs per second of the bare Django view
   ``/healthz/``, both served by the same gunicorn (same workers, same database and broker),
   measured as ``--intake-rounds`` back-to-back pairs whose median ratio is the figure; then the
   webhook's latency (p50, p99) at half of that rate, sent on a fixed schedule.
2. Processing, one Celery worker with concurrency 1 on PostgreSQL, the events stored and woken
   as the view does before the worker starts: new ad leads per second; the inbound mix (1 new ad
   lead in 5, the rest follow-ups) with ~10k events stored; statuses (sent, delivered, read of
   each message); the mix again with ``--stored-events`` (1M) events and as many messages stored
   (seeded by SQL), whose cost per event over the first is the scale ratio, and the worker's
   memory over that drain.
3. The embedded default (SQLite + the file broker, as ``make run``): a burst of webhooks posted
   and drained, events per second.

Every figure is printed with the machine's load average (other load moves absolute numbers; the
ratio is measured back to back on the same server to stay comparable). The bench creates its own
database, uses its own Redis database, starts and stops its own processes, and cleans up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
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

from . import database, embedded, history, http_load, seed

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
    parser.add_argument("--events", type=int, default=1000, help="new ad leads for the worker phase")
    parser.add_argument("--mix-events", type=int, default=3000, help="events of the inbound mix (10k stored)")
    parser.add_argument("--status-messages", type=int, default=2000, help="sent messages, 3 statuses each")
    parser.add_argument(
        "--stored-events", type=int, default=1_000_000, help="events stored for the scale run"
    )
    parser.add_argument("--drain-events", type=int, default=5_000, help="events of the scale/memory drain")
    parser.add_argument(
        "--intake-rounds", type=int, default=5, help="bare/webhook pairs; the ratio is their median"
    )
    parser.add_argument("--embedded-events", type=int, default=1000, help="burst on SQLite + file broker")
    parser.add_argument("--latency-seconds", type=float, default=5.0, help="paced phase at half of peak")
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


def measure_intake(
    args: argparse.Namespace,
    *,
    secret: str,
    log_dir: Path,
    wake_interval: str | None = None,
    offset: int = 0,
    rounds: int | None = None,
) -> dict[str, Any]:
    """Phase 1: bare Django vs the webhook, on one gunicorn (``wake_interval``: its WAKE_INTERVAL_SECONDS).

    ``rounds`` back-to-back pairs (bare, then webhook), and the ratio is the median of the pairs'
    ratios: on this shared 2-core machine the same phase runs 20-30 % faster or slower from one
    few-second stretch to the next (bare Django alone measured 1,772-3,160 req/s in one run), so
    one pair is a draw. Then the webhook paced at half of the median peak, for its latency.
    """
    from whatsapp_leads.models import WebhookEvent

    rounds = rounds or args.intake_rounds
    port = free_port()
    common = {"port": port, "clients": args.clients, "max_seconds": args.max_seconds}
    server_env = {"WHATSAPP_APP_SECRET": secret}
    if wake_interval is not None:
        server_env["WHATSAPP_WAKE_INTERVAL_SECONDS"] = wake_interval
    stored_before = WebhookEvent.objects.count()
    accepted = 0
    pairs: list[dict[str, Any]] = []
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
            f"--threads {args.threads} on 127.0.0.1:{port}; {args.clients} keep-alive clients; {rounds} rounds",
            flush=True,
        )
        webhook = "/whatsapp/webhook/"
        _phase("warm-up /healthz/", http_load.Plan(path="/healthz/", requests=args.warmup, **common))
        warm = _phase(
            "warm-up webhook",
            http_load.Plan(path=webhook, requests=args.warmup, secret=secret, user_offset=offset, **common),
        )
        accepted += warm.ok
        offset += args.warmup
        for n in range(rounds):
            bare = _phase(
                f"{n + 1}/{rounds} bare Django /healthz/",
                http_load.Plan(path="/healthz/", requests=args.requests, **common),
            )
            hook = _phase(
                f"{n + 1}/{rounds} signed webhook",
                http_load.Plan(
                    path=webhook, requests=args.requests, secret=secret, user_offset=offset, **common
                ),
            )
            offset += args.requests
            accepted += hook.ok
            pairs.append(
                {
                    "bare_rps": round(bare.rps, 1),
                    "webhook_rps": round(hook.rps, 1),
                    "ratio": round(hook.rps / bare.rps, 3) if bare.rps else None,
                    "webhook_statuses": dict(hook.statuses),
                    "load_average": _load(),
                }
            )
            print(f"    ratio {pairs[-1]['ratio']}", flush=True)
        load_at_ratio = _load()
        webhook_rps = statistics.median(p["webhook_rps"] for p in pairs)
        # Half of the peak just measured, on a fixed schedule: what a request waits when not saturated.
        half = webhook_rps / 2
        paced = _phase(
            f"paced webhook at {half:.0f} req/s",
            http_load.Plan(
                path=webhook,
                requests=max(args.clients, int(half * args.latency_seconds)),
                secret=secret,
                user_offset=offset,
                rate=half,
                **{**common, "max_seconds": args.latency_seconds + 10},
            ),
        )
        accepted += paced.ok
        p50, p99 = paced.percentile_ms(0.50), paced.percentile_ms(0.99)
        print(f"  latency at {half:.0f} req/s: p50={p50} ms p99={p99} ms (load {_load()})", flush=True)
    stored = WebhookEvent.objects.count() - stored_before
    if stored != accepted:
        raise SystemExit(
            f"durability check failed: {accepted} webhooks answered 200 but {stored} rows stored"
        )
    print(f"  durability: {accepted} answered 200, {stored} rows stored", flush=True)
    ratios = [p["ratio"] for p in pairs if p["ratio"] is not None]
    return {
        "webhook_accept_rps": round(webhook_rps, 1),
        "bare_django_rps": round(statistics.median(p["bare_rps"] for p in pairs), 1),
        "ratio": round(statistics.median(ratios), 3) if ratios else None,
        "ratio_min": min(ratios, default=None),
        "ratio_max": max(ratios, default=None),
        "rounds": pairs,
        "rows_stored": stored,
        "load_average": load_at_ratio,
        "p50_ms": p50,
        "p99_ms": p99,
        "latency_at_rps": round(half, 1),
        "paced": {"ok": paced.ok, "seconds": round(paced.seconds, 3), "statuses": dict(paced.statuses)},
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (the prefork pool), in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    pids += [int(child) for child in children]
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its children (the prefork pool)."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for each in [pid, *(int(child) for child in children)]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _queue_all(ids: list[int]) -> int:
    """Hand stored events to the workers as the webhook view does; returns how many wakes went out.

    The view's publishes are coalesced (one wake per ``WAKE_INTERVAL_SECONDS`` per process), so
    this is the same mix of tasks and skipped publishes a burst of webhooks makes.
    """
    from whatsapp_leads import queueing
    from whatsapp_leads.models import WebhookEvent

    wakes = 0
    for pk in ids:
        before = queueing._last_wake
        if not WebhookEvent.objects.publish_new(pk):
            raise SystemExit(f"event {pk} could not be queued")
        wakes += queueing._last_wake is not before
    return wakes


def drain(
    args: argparse.Namespace, *, name: str, bodies: list[bytes], log_dir: Path, sample_rss: bool = False
) -> dict[str, Any]:
    """Store ``bodies`` as pending events, queue them, then time one worker (concurrency 1) draining them."""
    from whatsapp_leads.models import WebhookEvent

    flush_redis_db(args.redis_url)
    ids = seed.store_bodies(bodies)
    queued = _queue_all(ids)
    ours = WebhookEvent.objects.filter(pk__gte=ids[0], pk__lte=ids[-1])
    finished = ours.filter(status__in=[WebhookEvent.Status.PROCESSED, WebhookEvent.Status.FAILED])
    samples: list[tuple[int, float]] = []
    worker: ChildProcess
    with celery_worker(
        database_url=args.database_url,
        broker_url=args.redis_url,
        concurrency=1,
        pool="prefork",
        log_dir=log_dir,
    ) as worker:
        started = time.perf_counter()
        cpu_before = _cpu_seconds(worker.process.pid)

        def done() -> bool:
            count = finished.count()
            if sample_rss:
                samples.append((count, _rss_mb(worker.process.pid)))
            return count >= len(ids)

        wait_for(
            done, timeout=args.worker_timeout, what=f"{len(ids)} events of {name} processed", interval=0.2
        )
        seconds = time.perf_counter() - started
        worker_cpu = _cpu_seconds(worker.process.pid) - cpu_before
        failed = ours.filter(status=WebhookEvent.Status.FAILED).count()
        if failed:
            worker.dump_log()
            example = ours.filter(status=WebhookEvent.Status.FAILED).values_list("error", flat=True).first()
            raise SystemExit(f"{name}: {failed} events failed, e.g. {example}")
    rate = len(ids) / seconds
    result: dict[str, Any] = {
        "events": len(ids),
        "published": queued,
        "seconds": round(seconds, 3),
        "per_second": round(rate, 1),
        "worker_cpu_ms_per_event": round(1000 * worker_cpu / len(ids), 3),
        "load_average": _load(),
    }
    if sample_rss and samples:
        # Past warm-up: from the first sample after a fifth of the events to the last one.
        warm = [mb for count, mb in samples if count >= len(ids) // 5] or [samples[-1][1]]
        result["rss_mb_after_warmup"] = round(warm[0], 1)
        result["rss_mb_peak_after_warmup"] = round(max(warm), 1)
        result["rss_mb_end"] = round(samples[-1][1], 1)
        result["rss_growth_mb"] = round(max(warm) - warm[0], 1)
    print(
        f"  {name}: {len(ids)} events in {seconds:.2f}s = {rate:.1f} events/s,"
        f" {result['worker_cpu_ms_per_event']} worker CPU ms per event"
        f"  (published {queued}; load {result['load_average']})"
        + (f"  rss growth {result['rss_growth_mb']} MB" if "rss_growth_mb" in result else ""),
        flush=True,
    )
    return result


def measure_worker(args: argparse.Namespace, *, log_dir: Path) -> dict[str, Any]:
    """Phase 2: one worker (concurrency 1) on PostgreSQL: new leads, the inbound mix, statuses, at scale."""
    from whatsapp_leads.models import Lead, WebhookEvent

    # Phase 1's events were only intake: drop them and their queued tasks.
    flush_redis_db(args.redis_url)
    WebhookEvent.objects.all().delete()

    leads_run = drain(
        args,
        name="new ad leads",
        bodies=[http_load.bench_payload(n) for n in range(10_000_000, 10_000_000 + args.events)],
        log_dir=log_dir,
    )
    leads = Lead.objects.filter(owner__isnull=False, campaign__isnull=False).count()
    if leads != args.events:
        raise SystemExit(f"worker phase: {leads} of {args.events} assigned leads")

    stored = WebhookEvent.objects.count()
    small = history.store_history(max(0, 10_000 - stored), tag="a")
    print(
        f"  stored before the mix: {WebhookEvent.objects.count()} events ({small['seconds']:.1f}s to seed)",
        flush=True,
    )
    users = max(1, args.mix_events // 5)
    mix_small = drain(
        args,
        name="inbound mix (1 new lead in 5), 10k stored",
        bodies=seed.mix_payloads(users, user_offset=20_000_000),
        log_dir=log_dir,
    )

    wamids = seed.outbound_messages(args.status_messages, user_offset=30_000_000)
    statuses = drain(args, name="statuses", bodies=seed.status_payloads(wamids), log_dir=log_dir)

    big = history.store_history(max(0, args.stored_events - WebhookEvent.objects.count()), tag="b")
    print(
        f"  stored before the second mix: {WebhookEvent.objects.count()} events, {big['messages']} more messages"
        f" ({big['seconds']:.1f}s to seed; load {_load()})",
        flush=True,
    )
    mix_big = drain(
        args,
        name=f"inbound mix, {args.stored_events // 1000}k stored",
        bodies=seed.mix_payloads(max(1, args.drain_events // 5), user_offset=40_000_000),
        log_dir=log_dir,
        sample_rss=True,
    )
    return {
        # The keys of earlier runs: every event a new ad lead.
        "worker_leads_per_second": leads_run["per_second"],
        "events": leads_run["events"],
        "seconds": leads_run["seconds"],
        "new_leads_per_second": leads_run["per_second"],
        "inbound_messages_per_second": mix_small["per_second"],
        "statuses_per_second": statuses["per_second"],
        # Cost per event with ~1M stored over cost with ~10k stored (1.0 = no slower).
        "scale_ratio_1m_vs_10k": round(mix_small["per_second"] / mix_big["per_second"], 3),
        "rss_growth_mb": mix_big.get("rss_growth_mb"),
        "runs": {"new_leads": leads_run, "mix_10k": mix_small, "statuses": statuses, "mix_1m": mix_big},
        "stored_events_small": 10_000,
        "stored_events_big": args.stored_events,
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
    load_before = _load()
    print(f"  cpus={os.cpu_count()} load_average={load_before}", flush=True)
    database.recreate(args.database_url)
    flush_redis_db(args.redis_url)
    _setup_django(args, secret)
    try:
        seed.campaign_with_reps()
        print("phase 1: webhook intake vs bare Django", flush=True)
        print(" a. one publish per webhook (WAKE_INTERVAL_SECONDS=0, as before issue 12)", flush=True)
        each = measure_intake(
            args, secret=secret, log_dir=log_dir, wake_interval="0", offset=80_000_000, rounds=3
        )
        print(" b. coalesced wakes (the default)", flush=True)
        intake = measure_intake(args, secret=secret, log_dir=log_dir)
        intake["publish_each"] = {
            key: each[key]
            for key in ("webhook_accept_rps", "bare_django_rps", "ratio", "p50_ms", "p99_ms", "load_average")
        }
        print("phase 2: one worker turning queued messages into leads", flush=True)
        processing = measure_worker(args, log_dir=log_dir)
        print("phase 3: the embedded default (SQLite + file broker), a burst drained", flush=True)
        embedded_run = embedded.measure_embedded(events=args.embedded_events)
        embedded_run["load_average"] = _load()
        print(
            f"  {embedded_run['events']} webhooks drained in {embedded_run['drained_in_seconds']}s"
            f" = {embedded_run['events_per_second']} events/s (load {embedded_run['load_average']})",
            flush=True,
        )
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
        f"  ratio={intake['ratio']} (median of {len(intake['rounds'])} pairs,"
        f" {intake['ratio_min']}-{intake['ratio_max']})"
    )
    print(f"load average now: {_load()} (cpus={os.cpu_count()})")
    rows = [
        ("durable intake / bare Django view", intake["ratio"], ">= 0.6", intake["load_average"]),
        ("  (the same, one publish per webhook)", each["ratio"], "", each["load_average"]),
        ("intake latency p50 ms at half of peak", intake["p50_ms"], "< 10", None),
        ("intake latency p99 ms at half of peak", intake["p99_ms"], "< 50", None),
        (
            "inbound messages/s, one worker (1 new lead in 5)",
            processing["inbound_messages_per_second"],
            ">= 1000",
            processing["runs"]["mix_10k"]["load_average"],
        ),
        (
            "new ad leads/s, one worker",
            processing["new_leads_per_second"],
            "",
            processing["runs"]["new_leads"]["load_average"],
        ),
        (
            "status updates/s, one worker",
            processing["statuses_per_second"],
            ">= 3000",
            processing["runs"]["statuses"]["load_average"],
        ),
        (
            "embedded burst drained, events/s",
            embedded_run["events_per_second"],
            ">= 200",
            embedded_run["load_average"],
        ),
        (
            f"cost/event {args.stored_events // 1000}k vs 10k stored",
            processing["scale_ratio_1m_vs_10k"],
            "<= 1.2",
            processing["runs"]["mix_1m"]["load_average"],
        ),
        (
            f"worker RSS growth MB over a {args.drain_events}-event drain",
            processing["rss_growth_mb"],
            "flat",
            None,
        ),
    ]
    for label, value, target, load in rows:
        print(f"  {label:<55} {value!s:>10}  target {target:<8}" + (f" load {load}" if load else ""))
    print(f"worker_leads_per_second={processing['worker_leads_per_second']}")
    RESULTS_DIR.mkdir(exist_ok=True)
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
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
        "embedded": embedded_run,
    }
    out = RESULTS_DIR / "latest.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {out.relative_to(REPO_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
