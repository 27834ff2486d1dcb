"""Real processes from the pytest side: workers for one test, and racing ``process_event`` callers.

Run as a module (``python -m tests.support.procs race-process ...``) it is the racing caller used
by the concurrency tests: it waits for a start flag, then calls ``process_event`` on the given events.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scripts.processes import (
    _BROKER_ENV_OVERRIDES,
    REDIS_URL,
    REPO_DIR,
    TEST_APP_SECRET,
    TEST_VERIFY_TOKEN,
    ChildProcess,
    _spawn,
    celery_worker,
    child_env,
    database_url,
    flush_redis_db,
    free_port,
    gunicorn_server,
    stop,
    wait_for,
)
from tests.support.brokers import point_celery_at

__all__ = [
    "REDIS_URL",
    "REPO_DIR",
    "TEST_APP_SECRET",
    "TEST_VERIFY_TOKEN",
    "ChildProcess",
    "Racers",
    "Workers",
    "celery_worker",
    "child_env",
    "database_url",
    "flush_redis_db",
    "free_port",
    "gunicorn_server",
    "publishing_to",
    "stop",
    "wait_for",
]


# --- the test process's publisher ------------------------------------------------------------------


@contextlib.contextmanager
def publishing_to(broker_url: str) -> Iterator[Any]:
    """Point the test process's Celery app (what the webhook view publishes with) at ``broker_url``.

    Restores the previous broker, with fresh pools, on exit. ``CELERY_BROKER_URL`` in the
    environment would override ``app.conf`` silently, so it is lifted for the duration.
    """
    from bharatcrm.celery import app

    saved_env = {name: os.environ.pop(name) for name in _BROKER_ENV_OVERRIDES if name in os.environ}
    previous = app.conf.broker_url
    point_celery_at(broker_url)
    try:
        wanted, actual = urlparse(broker_url), urlparse(app.connection_for_write().as_uri())
        if (wanted.hostname, wanted.port) != (actual.hostname, actual.port):
            raise RuntimeError(f"publisher still points at {actual.hostname}:{actual.port}")
        yield app
    finally:
        point_celery_at(previous)
        os.environ.update(saved_env)


# --- the pytest side ----------------------------------------------------------------------------


@dataclass
class Workers:
    """Workers for one test, publishing and consuming through one Redis database.

    On entry the Redis database is emptied and the test process's Celery app is pointed at it
    (so the webhook view's on-commit publish reaches the workers); on exit every worker is
    stopped, the publisher restored, and the workers' logs printed when the test failed.

        @pytest.fixture
        def workers(request, transactional_db):
            with Workers(request=request) as w:
                yield w
    """

    request: Any = None
    broker_url: str = REDIS_URL
    publish: bool = True
    started: list[ChildProcess] = field(default_factory=list)
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wl-workers-")))
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _failed_before: int = 0

    def __enter__(self) -> Workers:
        flush_redis_db(self.broker_url)
        if self.publish:
            self._stack.enter_context(publishing_to(self.broker_url))
        if self.request is not None:
            self._failed_before = self.request.session.testsfailed
        return self

    def start(self, *, concurrency: int = 1, pool: str = "prefork", **kwargs: Any) -> ChildProcess:
        """Start a worker on the test database; returns once it consumes."""
        worker = self._stack.enter_context(
            celery_worker(
                database_url=database_url(),
                broker_url=self.broker_url,
                concurrency=concurrency,
                pool=pool,
                log_dir=self.log_dir,
                **kwargs,
            )
        )
        self.started.append(worker)
        return worker

    def _test_failed(self) -> bool:
        return self.request is not None and self.request.session.testsfailed > self._failed_before

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._stack.close()
        finally:
            if exc_type is not None or self._test_failed():
                for worker in self.started:
                    worker.dump_log(stream=sys.stdout)
            else:
                shutil.rmtree(self.log_dir, ignore_errors=True)
            flush_redis_db(self.broker_url)


# --- racing callers (python -m tests.support.procs race-process ...) --------------------------------------


@dataclass
class Racers:
    """Processes that each call ``process_event`` at the same moment, released by a flag file.

    Starting a Python process takes far longer than processing an event, so the processes first
    set Django up and open their database connection, report ready, and only then wait for the
    flag: the calls really overlap instead of running one after another.
    """

    database_url: str
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wl-race-")))
    children: list[ChildProcess] = field(default_factory=list)

    @property
    def go_flag(self) -> Path:
        return self.work_dir / "go"

    def spawn(self, event_ids: list[int]) -> ChildProcess:
        n = len(self.children)
        args = [
            sys.executable,
            "-m",
            "tests.support.procs",
            "race-process",
            "--ready-file",
            str(self.work_dir / f"ready-{n}"),
            "--go-file",
            str(self.go_flag),
            *[str(pk) for pk in event_ids],
        ]
        child = _spawn(
            f"racer-{n}", args, env=child_env(database_url=self.database_url), log_dir=self.work_dir
        )
        self.children.append(child)
        return child

    def release(self, *, timeout: float = 30.0) -> list[str]:
        """Wait until every racer is ready, let them all go at once, and collect their outcomes."""
        try:
            for n, child in enumerate(self.children):
                ready = self.work_dir / f"ready-{n}"

                def is_ready(child: ChildProcess = child, ready: Path = ready) -> bool:
                    if child.process.poll() is not None and not ready.exists():
                        raise RuntimeError(f"{child.name} exited early")
                    return ready.exists()

                wait_for(is_ready, timeout=timeout, what=f"{child.name} to be ready")
            self.go_flag.touch()
            outcomes: list[str] = []
            for child in self.children:
                child.process.wait(timeout=timeout)
                if child.process.returncode != 0:
                    raise RuntimeError(f"{child.name} exited with {child.process.returncode}")
                outcomes += [
                    line.split("=", 1)[1] for line in child.log().splitlines() if line.startswith("outcome=")
                ]
            shutil.rmtree(self.work_dir, ignore_errors=True)
            return outcomes
        except BaseException:
            for child in self.children:
                stop(child, grace=2)
                child.dump_log()
            raise


def _race_process(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.db import connection

    from whatsapp_leads.services.processing import process_event

    connection.ensure_connection()
    Path(args.ready_file).touch()
    go = Path(args.go_file)
    deadline = time.monotonic() + args.timeout
    while not go.exists():
        if time.monotonic() > deadline:
            print("never released", file=sys.stderr)
            return 2
        time.sleep(0.001)
    for pk in args.event_ids:
        print(f"outcome={process_event(pk).status}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.procs")
    commands = parser.add_subparsers(dest="command", required=True)
    race = commands.add_parser("race-process", help="wait for a flag file, then process events")
    race.add_argument("--ready-file", required=True)
    race.add_argument("--go-file", required=True)
    race.add_argument("--timeout", type=float, default=60.0)
    race.add_argument("event_ids", nargs="+", type=int)
    args = parser.parse_args(argv)
    return _race_process(args)


if __name__ == "__main__":
    sys.exit(main())
