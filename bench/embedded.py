"""The embedded default (``make run``: SQLite and kombu's file broker, nothing else installed).

A burst of single-message webhooks is posted to a web server on that setup while one worker
(concurrency 2, as ``make run`` starts it) drains them; the figure is events processed per
second from the first POST to the last event processed (the latest ``processed_at``). Runs in
a throwaway folder (``BHARATCRM_VAR_DIR``), so it never touches a developer's ``var/``.

The clock starts when the first client sends, not when the load generator is launched: its
client processes take about a second to start and build their signed bodies, which is the
bench's own cost, not the product's (until December 2026 it was counted, and made up most of a
300-event burst's time; ``with_client_start_seconds`` still reports that span).

``profile=True`` (``python -m bench.embedded --profile``) measures the two halves apart, to
tell which one limits the figure: the burst posted with no worker running (the web server's
INSERTs alone), then the worker started on the full inbox (the drain alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.processes import (
    REPO_DIR,
    TEST_APP_SECRET,
    celery_worker,
    child_env,
    free_port,
    gunicorn_server,
    wait_for,
)

from . import http_load


def _processed(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM whatsapp_leads_webhookevent WHERE status IN ('processed', 'failed')"
        ).fetchone()
    return int(count)


def _last_processed(db: Path) -> float:
    """``time.perf_counter()`` at which the last event was processed, read back from its ``processed_at``.

    Polling for the count would add up to a poll interval to the drain; the row knows when it
    finished (UTC wall clock), which is moved onto the monotonic clock by the offset between the two now.
    """
    with sqlite3.connect(db, timeout=30) as conn:
        (last,) = conn.execute("SELECT max(processed_at) FROM whatsapp_leads_webhookevent").fetchone()
    finished = datetime.fromisoformat(str(last)).replace(tzinfo=UTC).timestamp()
    return time.perf_counter() - (time.time() - finished)


def _burst(port: int, events: int, clients: int) -> http_load.Result:
    return http_load.run(
        http_load.Plan(
            port=port,
            path="/whatsapp/webhook/",
            requests=events,
            clients=clients,
            max_seconds=60,
            secret=TEST_APP_SECRET,
            user_offset=50_000_000,
        )
    )


@contextlib.contextmanager
def _setup() -> Iterator[tuple[Path, str, dict[str, str]]]:
    """A migrated SQLite file and broker folders in a throwaway folder: (db, url, extra env)."""
    var_dir = Path(tempfile.mkdtemp(prefix="wl-bench-embedded-"))
    try:
        for name in ("queue", "processed", "control"):
            (var_dir / "broker" / name).mkdir(parents=True)
        db = var_dir / "db.sqlite3"
        database_url = f"sqlite:///{db}"
        extra = {"BHARATCRM_VAR_DIR": str(var_dir)}
        env = child_env(database_url=database_url, broker_url="filesystem://", extra=extra)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity=0"],
            cwd=REPO_DIR,
            env=env,
            check=True,
        )
        yield db, database_url, extra
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _worker(database_url: str, extra: dict[str, str], concurrency: int, db: Path) -> Any:
    return celery_worker(
        database_url=database_url,
        broker_url="filesystem://",
        concurrency=concurrency,
        log_dir=db.parent / "logs",
        env=extra,
    )


def _web(database_url: str, extra: dict[str, str], port: int, db: Path) -> Any:
    return gunicorn_server(
        database_url=database_url,
        broker_url="filesystem://",
        port=port,
        workers=1,
        worker_class="gthread",
        threads=4,
        log_dir=db.parent / "logs",
        env=extra,
    )


def measure_embedded(
    *, events: int = 1000, clients: int = 4, concurrency: int = 2, timeout: float = 300.0
) -> dict[str, Any]:
    with _setup() as (db, database_url, extra):
        port = free_port()
        with _worker(database_url, extra, concurrency, db), _web(database_url, extra, port, db):
            launched = time.perf_counter()
            burst = _burst(port, events, clients)
            wait_for(
                lambda: _processed(db) >= burst.ok,
                timeout=timeout,
                what=f"{burst.ok} events drained",
                interval=0.05,
            )
            finished = _last_processed(db)
    seconds = finished - burst.started_at
    return {
        "events": burst.ok,
        "statuses": dict(burst.statuses),
        "posted_in_seconds": round(burst.seconds, 3),
        "drained_in_seconds": round(seconds, 3),
        "events_per_second": round(burst.ok / seconds, 1) if seconds > 0 else None,
        "with_client_start_seconds": round(finished - launched, 3),
        "worker_concurrency": concurrency,
    }


def profile_embedded(
    *, events: int = 1000, clients: int = 4, concurrency: int = 2, timeout: float = 300.0
) -> dict[str, Any]:
    """The web half and the drain half of ``measure_embedded``, each alone (see the module docstring)."""
    with _setup() as (db, database_url, extra):
        port = free_port()
        with _web(database_url, extra, port, db):
            burst = _burst(port, events, clients)
            posted = burst.seconds
        started = time.perf_counter()
        with _worker(database_url, extra, concurrency, db):
            ready = time.perf_counter() - started
            wait_for(
                lambda: _processed(db) >= burst.ok,
                timeout=timeout,
                what=f"{burst.ok} events drained",
                interval=0.05,
            )
            drained = time.perf_counter() - started - ready
    return {
        "events": burst.ok,
        "statuses": dict(burst.statuses),
        "web_alone_events_per_second": round(burst.ok / posted, 1) if posted > 0 else None,
        "drain_alone_events_per_second": round(burst.ok / drained, 1) if drained > 0 else None,
        "worker_ready_seconds": round(ready, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="the web and the drain halves apart")
    args = parser.parse_args(argv)
    measure = profile_embedded if args.profile else measure_embedded
    print(json.dumps(measure(events=args.events, clients=args.clients, concurrency=args.concurrency)))


if __name__ == "__main__":
    main()
