"""``python -m bench.intake_bench --runs N [--profile]``: issue 12's intake figures alone, with their costs.

The same measurement as ``make bench``'s phase 1 (a bare Django view and the signed webhook on one
gunicorn, then the webhook paced at half of its peak), repeated ``--runs`` times back to back, and
for each phase the CPU it cost per request: the gunicorn processes' (read from ``/proc``), the
PostgreSQL backends' serving them, and the load generator's own. On a 2-core machine the clients
share the cores with the server, so a figure is only the server's when the clients are not what
ran out of CPU; these columns say which it was.

``--profile`` also runs both views in this process through the WSGI handler (every middleware,
no HTTP): the wall time per request without any client, and a cProfile split of the webhook's
cost (signature, body read, INSERT, wake, the rest of Django).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scripts.processes import flush_redis_db, free_port, gunicorn_server

from . import database, http_load, seed

WEBHOOK = "/whatsapp/webhook/"
BARE = "/healthz/"
TICKS = os.sysconf("SC_CLK_TCK")


def _args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--database-url", default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wl_bench")
    )
    parser.add_argument("--redis-url", default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--runs", type=int, default=3, help="bare/webhook/paced rounds on one server")
    parser.add_argument("--requests", type=int, default=3000, help="requests per saturated phase")
    parser.add_argument("--warmup", type=int, default=300, help="requests per warm-up phase")
    parser.add_argument("--clients", type=int, default=4, help="client processes (one connection each)")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="cap on each HTTP phase")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn -w")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn --worker-class")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn --threads (gthread)")
    parser.add_argument("--latency-seconds", type=float, default=5.0, help="paced phase at half of peak")
    parser.add_argument("--wake-interval", default=None, help="the server's WAKE_INTERVAL_SECONDS")
    parser.add_argument("--profile", action="store_true", help="also profile both views in-process")
    parser.add_argument("--profile-requests", type=int, default=2000, help="requests per in-process run")
    parser.add_argument("--no-http", action="store_true", help="only the in-process profile")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database in place")
    return parser.parse_args(argv)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- CPU of other processes ------------------------------------------------------------------------


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process (clock ticks); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5), counted after "comm)"


def _tree(pid: int) -> list[int]:
    """``pid`` and its children (gunicorn's workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(c) for c in children)]


def _backend_pids(database_name: str) -> list[int]:
    """The PostgreSQL backends connected to the bench database (the server's connections)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database_name]
        )
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU seconds spent by gunicorn (master and workers) and by the database's backends."""

    def __init__(self, server_pid: int, database_name: str | None) -> None:
        self.server_pid = server_pid
        self.database_name = database_name

    def sample(self) -> dict[int, int]:
        pids = _tree(self.server_pid)
        if self.database_name:
            pids += [-p for p in _backend_pids(self.database_name)]  # negative: a backend
        return {p: _cpu_ticks(abs(p)) for p in pids}

    @staticmethod
    def spent(before: dict[int, int], after: dict[int, int]) -> tuple[float, float]:
        """(server, database) CPU seconds between two samples; new processes count from zero."""
        server = database = 0
        for pid, ticks in after.items():
            delta = ticks - before.get(pid, 0)
            if pid < 0:
                database += delta
            else:
                server += delta
        return server / TICKS, database / TICKS


# --- the HTTP phases -------------------------------------------------------------------------------


def _phase(name: str, plan: http_load.Plan, meter: CpuMeter) -> dict[str, Any]:
    before = meter.sample()
    result = http_load.run(plan)
    server, db = meter.spent(before, meter.sample())
    ok = max(result.ok, 1)
    row: dict[str, Any] = {
        "ok": result.ok,
        "rps": round(result.rps, 1),
        "seconds": round(result.seconds, 3),
        "server_cpu_ms": round(server * 1000 / ok, 3),
        "db_cpu_ms": round(db * 1000 / ok, 3),
        "client_cpu_ms": round(result.cpu_seconds * 1000 / ok, 3),
        # Share of the machine's cores busy with this phase (server + database + clients).
        "cpu_busy": round((server + db + result.cpu_seconds) / result.seconds / (os.cpu_count() or 1), 2)
        if result.seconds
        else None,
        "statuses": dict(result.statuses),
        "errors": dict(result.errors),
    }
    if plan.rate:
        row["p50_ms"] = result.percentile_ms(0.50)
        row["p99_ms"] = result.percentile_ms(0.99)
        row["max_ms"] = result.percentile_ms(1.0)
    print(
        f"  {name:<28} {row['rps']:>8.1f} req/s  cpu ms/req: server {row['server_cpu_ms']:.3f}"
        f" db {row['db_cpu_ms']:.3f} client {row['client_cpu_ms']:.3f}  busy {row['cpu_busy']}"
        + (f"  p50 {row['p50_ms']} p99 {row['p99_ms']} max {row['max_ms']} ms" if plan.rate else "")
        + (
            f"  statuses={row['statuses']} errors={row['errors']}"
            if row["errors"] or len(row["statuses"]) > 1
            else ""
        ),
        flush=True,
    )
    return row


def measure_http(args: argparse.Namespace, *, secret: str, log_dir: Path) -> dict[str, Any]:
    """``--runs`` rounds of bare, webhook and paced webhook on one gunicorn; medians and every round."""
    from whatsapp_leads.models import WebhookEvent

    port = free_port()
    common = {"port": port, "clients": args.clients, "max_seconds": args.max_seconds}
    server_env = {"WHATSAPP_APP_SECRET": secret}
    if args.wake_interval is not None:
        server_env["WHATSAPP_WAKE_INTERVAL_SECONDS"] = args.wake_interval
    stored_before = WebhookEvent.objects.count()
    offset = 80_000_000
    accepted = 0
    rounds: list[dict[str, Any]] = []
    with gunicorn_server(
        database_url=args.database_url,
        broker_url=args.redis_url,
        port=port,
        workers=args.web_workers,
        worker_class=args.worker_class,
        threads=args.threads,
        log_dir=log_dir,
        env=server_env,
    ) as server:
        meter = CpuMeter(server.process.pid, database.database_name(args.database_url))
        print(
            f"gunicorn -w {args.web_workers} --worker-class {args.worker_class} --threads {args.threads};"
            f" {args.clients} keep-alive clients; load {_load()}",
            flush=True,
        )
        _phase("warm-up bare", http_load.Plan(path=BARE, requests=args.warmup, **common), meter)
        warm = _phase(
            "warm-up webhook",
            http_load.Plan(path=WEBHOOK, requests=args.warmup, secret=secret, user_offset=offset, **common),
            meter,
        )
        offset += args.warmup
        accepted += warm["ok"]
        for n in range(args.runs):
            print(f" round {n + 1}/{args.runs} (load {_load()})", flush=True)
            bare = _phase(
                "bare Django view", http_load.Plan(path=BARE, requests=args.requests, **common), meter
            )
            hook = _phase(
                "signed webhook",
                http_load.Plan(
                    path=WEBHOOK, requests=args.requests, secret=secret, user_offset=offset, **common
                ),
                meter,
            )
            offset += args.requests
            half = hook["rps"] / 2
            count = max(args.clients, int(half * args.latency_seconds))
            paced = _phase(
                f"webhook paced at {half:.0f}/s",
                http_load.Plan(
                    path=WEBHOOK,
                    requests=count,
                    secret=secret,
                    user_offset=offset,
                    rate=half,
                    **{**common, "max_seconds": args.latency_seconds + 10},
                ),
                meter,
            )
            offset += count
            accepted += hook["ok"] + paced["ok"]
            ratio = round(hook["rps"] / bare["rps"], 3) if bare["rps"] else None
            print(f"  ratio {ratio}", flush=True)
            rounds.append({"bare": bare, "webhook": hook, "paced": paced, "ratio": ratio, "load": _load()})
    stored = WebhookEvent.objects.count() - stored_before
    if stored != accepted:
        raise SystemExit(
            f"durability check failed: {accepted} webhooks answered 200 but {stored} rows stored"
        )
    print(f"  durability: {accepted} answered 200, {stored} rows stored", flush=True)

    def median(part: str, key: str) -> float:
        return round(statistics.median(r[part][key] for r in rounds if r[part].get(key) is not None), 3)

    summary = {
        "ratio": round(statistics.median(r["ratio"] for r in rounds if r["ratio"] is not None), 3),
        "bare_rps": median("bare", "rps"),
        "webhook_rps": median("webhook", "rps"),
        "p50_ms": median("paced", "p50_ms"),
        "p99_ms": median("paced", "p99_ms"),
        **{
            f"{part}_{key}": median(part, key)
            for part in ("bare", "webhook")
            for key in ("server_cpu_ms", "db_cpu_ms", "client_cpu_ms")
        },
        "paced_server_cpu_ms": median("paced", "server_cpu_ms"),
        "rounds": rounds,
    }
    print(
        f"median of {len(rounds)}: ratio {summary['ratio']} (webhook {summary['webhook_rps']} / bare"
        f" {summary['bare_rps']} req/s), at half of peak p50 {summary['p50_ms']} ms p99 {summary['p99_ms']} ms;"
        f" cpu ms/req server {summary['bare_server_cpu_ms']} vs {summary['webhook_server_cpu_ms']},"
        f" db - vs {summary['webhook_db_cpu_ms']}, client {summary['bare_client_cpu_ms']} vs"
        f" {summary['webhook_client_cpu_ms']}; load {_load()}",
        flush=True,
    )
    return summary


# --- in-process: the views through the WSGI handler, no HTTP -----------------------------------


def _environ(path: str, body: bytes | None, headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST" if body is not None else "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "Python-urllib/3.12",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body is not None:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


def _requests(path: str, count: int, *, secret: str | None, offset: int) -> list[dict[str, Any]]:
    plan = http_load.Plan(
        port=0, path=path, requests=count, clients=1, max_seconds=0, secret=secret, user_offset=offset
    )
    return [_environ(path, body, headers) for _, body, headers in http_load._requests_for(plan, 0, count)]


def _serve(application: Any, environs: list[dict[str, Any]]) -> None:
    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"in-process request answered {status}")

    for environ in environs:
        response = application(environ, start_response)
        b"".join(response)
        close = getattr(response, "close", None)  # a WSGI iterable need not have one
        if close is not None:
            close()


# Where the webhook's time goes: cumulative time of these functions (file fragment, function name).
_SPLIT = [
    ("signature verify", "signature.py", "verify_meta_signature"),
    ("body read", "views.py", "_read_body"),
    ("headers kept", "views.py", "_kept_headers"),
    ("INSERT (+ commit, autocommit)", "intake.py", "store_received"),
    ("INSERT via the ORM", "query.py", "create"),
    ("health check (SELECT 1)", "base.py", "close_if_health_check_failed"),
    ("request_started/finished signals", "dispatcher.py", "send"),
    ("wake (coalesced publish)", "webhooks.py", "publish_new"),
    ("view function, all of it", "views.py", "webhook"),
    ("middleware + handler, all of it", "base.py", "get_response"),
    ("WSGI handler, all of it", "wsgi.py", "__call__"),
]


def _profile_split(stats: pstats.Stats, requests: int) -> list[tuple[str, float]]:
    rows = []
    raw: dict = stats.stats  # type: ignore[attr-defined]  # (file, line, name) -> (cc, nc, tt, ct, callers)
    for label, fragment, name in _SPLIT:
        total = sum(
            ct
            for (file, _, func), (_, _, _, ct, _) in raw.items()
            if func == name and file.endswith(fragment)
        )
        if total:
            rows.append((label, total * 1000 / requests))
    return rows


def measure_in_process(args: argparse.Namespace, *, secret: str) -> dict[str, Any]:
    """Both views through Django's WSGI handler in this process: µs per request, and a profile."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    application = get_wsgi_application()
    count = args.profile_requests
    offset = 90_000_000
    out: dict[str, Any] = {}
    _serve(application, _requests(BARE, 200, secret=None, offset=0))
    _serve(application, _requests(WEBHOOK, 200, secret=secret, offset=offset))
    offset += 200
    for label, path, signed in (("bare", BARE, False), ("webhook", WEBHOOK, True)):
        environs = _requests(path, count, secret=secret if signed else None, offset=offset)
        offset += count
        cpu, wall = time.process_time(), time.perf_counter()
        _serve(application, environs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        out[f"{label}_wall_ms"] = round(wall * 1000 / count, 3)
        out[f"{label}_cpu_ms"] = round(cpu * 1000 / count, 3)
    print(
        f"in-process, {count} requests each, no HTTP: bare {out['bare_wall_ms']} ms wall / {out['bare_cpu_ms']} ms cpu,"
        f" webhook {out['webhook_wall_ms']} ms wall / {out['webhook_cpu_ms']} ms cpu per request"
        f" (ratio of costs {out['bare_wall_ms'] / out['webhook_wall_ms']:.3f}); load {_load()}",
        flush=True,
    )
    environs = _requests(WEBHOOK, count, secret=secret, offset=offset)
    profiler = cProfile.Profile()
    profiler.enable()
    _serve(application, environs)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"webhook under cProfile ({count} requests; profiler overhead inflates every figure):")
    split = _profile_split(stats, count)
    for label, ms in split:
        print(f"  {label:<34} {ms:7.3f} ms/request")
    out["profile_ms"] = {label: round(ms, 3) for label, ms in split}
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[-4000:])
    out["gc"] = measure_gc(application, secret=secret, offset=offset + count)
    connection.close()
    return out


def measure_gc(application: Any, *, secret: str, offset: int, count: int = 3000) -> dict[str, Any]:
    """Collector pauses while serving webhooks, as a worker has them, then after ``gc.freeze()``.

    What gunicorn.conf.py's ``post_worker_init`` does; a full collection's cost over everything
    a loaded Django holds is the pause a request meets when one comes due.
    """
    import gc

    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def timing(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    out: dict[str, Any] = {}
    gc.callbacks.append(timing)
    try:
        for label in ("as loaded", "frozen"):
            if label == "frozen":
                gc.collect()
                gc.freeze()
            tracked = len(gc.get_objects())
            full = time.perf_counter()
            gc.collect()
            full_ms = (time.perf_counter() - full) * 1000
            pauses.clear()
            _serve(application, _requests(WEBHOOK, count, secret=secret, offset=offset))
            offset += count
            row: dict[str, Any] = {"tracked_objects": tracked, "full_collection_ms": round(full_ms, 2)}
            for generation in (0, 1, 2):
                times = [ms for g, ms in pauses if g == generation]
                row[f"gen{generation}"] = {
                    "collections": len(times),
                    "max_ms": round(max(times, default=0.0), 2),
                    "ms_per_request": round(sum(times) / count, 4),
                }
            out[label] = row
            print(
                f"gc {label}: {tracked} objects tracked, a full collection {full_ms:.1f} ms; over {count} webhooks "
                + ", ".join(
                    f"gen{g} {row[f'gen{g}']['collections']}x max {row[f'gen{g}']['max_ms']} ms"
                    for g in (0, 1, 2)
                ),
                flush=True,
            )
    finally:
        gc.callbacks.remove(timing)
    return out


@contextmanager
def _bench_database(args: argparse.Namespace, secret: str) -> Iterator[None]:
    from bench.__main__ import _setup_django

    database.recreate(args.database_url)
    flush_redis_db(args.redis_url)
    _setup_django(args, secret)
    try:
        seed.campaign_with_reps()
        yield
    finally:
        from django.db import connections

        connections.close_all()
        flush_redis_db(args.redis_url)
        if not args.keep_db:
            database.drop(args.database_url)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    secret = secrets.token_hex(16)
    log_dir = Path(tempfile.mkdtemp(prefix="wl-intake-bench-"))
    print(
        f"intake bench: database {database.database_name(args.database_url)}, broker {args.redis_url};"
        f" cpus={os.cpu_count()} load {_load()}",
        flush=True,
    )
    with _bench_database(args, secret):
        if not args.no_http:
            measure_http(args, secret=secret, log_dir=log_dir)
        if args.profile:
            measure_in_process(args, secret=secret)
    return 0


if __name__ == "__main__":
    sys.exit(main())
