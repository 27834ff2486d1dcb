"""The embedded default (``make run``: SQLite and kombu's file broker, nothing else installed).

A burst of single-message webhooks is posted to a web server on that setup while one worker
(concurrency 2, as ``make run`` starts it) drains them; the figure is events processed per
second from the first POST to the last event processed. Runs in a throwaway folder
(``BHARATCRM_VAR_DIR``), so it never touches a developer's ``var/``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
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


def measure_embedded(
    *, events: int = 300, clients: int = 4, concurrency: int = 2, timeout: float = 300.0
) -> dict[str, Any]:
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
        port = free_port()
        with (
            celery_worker(
                database_url=database_url,
                broker_url="filesystem://",
                concurrency=concurrency,
                log_dir=var_dir / "logs",
                env=extra,
            ),
            gunicorn_server(
                database_url=database_url,
                broker_url="filesystem://",
                port=port,
                workers=1,
                worker_class="gthread",
                threads=4,
                log_dir=var_dir / "logs",
                env=extra,
            ),
        ):
            started = time.perf_counter()
            burst = http_load.run(
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
            posted = time.perf_counter() - started
            wait_for(
                lambda: _processed(db) >= burst.ok,
                timeout=timeout,
                what=f"{burst.ok} events drained",
                interval=0.05,
            )
            seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    return {
        "events": burst.ok,
        "statuses": dict(burst.statuses),
        "posted_in_seconds": round(posted, 3),
        "drained_in_seconds": round(seconds, 3),
        "events_per_second": round(burst.ok / seconds, 1) if seconds > 0 else None,
        "worker_concurrency": concurrency,
    }
