"""Real processes for tests and ``make bench``: Celery workers and gunicorn against a real database and broker.

Each helper is a context manager that always stops what it started, and shows the child's log
when something went wrong, because a worker that silently failed to start otherwise looks like a
test that timed out. Shared by ``tests/`` and ``bench/``, so neither imports the other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO_DIR = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# The secret and verify token of the test settings, so a child verifies exactly like the test.
TEST_APP_SECRET = "test_app_secret"
TEST_VERIFY_TOKEN = "test-verify-token"
# Environment variables that Celery reads *over* ``app.conf`` (see celery.app.utils.Settings).
_BROKER_ENV_OVERRIDES = ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL")


# --- waiting -------------------------------------------------------------------------------------


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail saying ``what`` never happened.

    Tests of real processes must wait for them, but never with a bare sleep: polling returns as
    soon as the thing happened and still bounds a hang.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# --- where children connect ------------------------------------------------------------------------


def database_url(settings_dict: Mapping[str, Any] | None = None) -> str:
    """A ``DATABASE_URL`` for the database the current process is connected to.

    Under pytest this is the *test* database (``test_<name>``), which only exists once a test
    has asked for the database; children pointed at it see the rows a transactional test commits.
    """
    if settings_dict is None:
        from django.db import connection

        settings_dict = connection.settings_dict
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine.endswith(("sqlite3", ".sqlite")):  # Django's backend or ours (bharatcrm.sqlite)
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("an in-memory SQLite database cannot be shared with another process")
        return f"sqlite:///{name}"
    if not engine.endswith("postgresql"):
        raise RuntimeError(f"no DATABASE_URL form known for {engine}")
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(name, safe='')}"


def child_env(
    *, database_url: str, broker_url: str | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for a child Django process: our database and broker, a throwaway secret key.

    The app settings match the test's autouse fixture (test secret, no default owner) and carry
    no Meta credentials, so a developer's ``.env`` cannot change what a child does: explicit
    variables beat ``.env``.
    """
    env = dict(os.environ)
    for name in _BROKER_ENV_OVERRIDES:
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bharatcrm.settings",
            "DATABASE_URL": database_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "WHATSAPP_APP_SECRET": TEST_APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": TEST_VERIFY_TOKEN,
            "WHATSAPP_DEFAULT_OWNER": "",
            # No real Meta credentials reach a child: nothing it does may call Meta's APIs.
            "WHATSAPP_ACCESS_TOKEN": "",
            "META_ACCESS_TOKEN": "",
            "META_AD_ACCOUNT_IDS": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    env.update(extra or {})
    return env


def flush_redis_db(url: str) -> None:
    """Empty one Redis database (FLUSHDB, never FLUSHALL): queues left by an earlier run would
    hand a new worker task ids that point at other rows."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# --- processes ----------------------------------------------------------------------------------


@dataclass
class ChildProcess:
    """A subprocess with its combined stdout/stderr in a file."""

    name: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def dump_log(self, *, stream: Any = None, tail: int = 200) -> None:
        lines = self.log().splitlines()[-tail:]
        out = stream or sys.stderr
        print(f"\n----- log of {self.name} (pid {self.process.pid}, last {len(lines)} lines) -----", file=out)
        print("\n".join(lines), file=out)
        print(f"----- end of {self.name} log -----", file=out)


def _spawn(
    name: str, args: list[str], *, env: Mapping[str, str], log_dir: Path, cwd: Path = REPO_DIR
) -> ChildProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        # Its own session, so stopping it can reach every child it forked (prefork pool, gunicorn
        # workers) through its process group, whose id is this pid.
        process = subprocess.Popen(  # noqa: S603  (fixed argv built here, no shell)
            args,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ChildProcess(name=name, process=process, log_path=log_path)


def _exited(pid: int, *, timeout: float) -> bool:
    """Wait for ``pid`` to exit *without reaping it*, so its id cannot be reused meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:  # already reaped (Popen.poll elsewhere): it has exited
            return True
        time.sleep(0.02)
    return False


def stop(child: ChildProcess, *, grace: float = 15.0) -> int | None:
    """SIGTERM (a warm shutdown: running tasks finish), then SIGKILL whatever is left of its group.

    The leader is not reaped until its group has been signalled: while it is a zombie its pid,
    which is the group id, still belongs to us, so the kill can only reach our own processes.
    """
    process = child.process
    if process.returncode is not None:  # already reaped: its id may belong to someone else now
        return process.returncode
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    _exited(process.pid, timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait(timeout=10)


def _wait_ready(child: ChildProcess, marker: str, *, timeout: float, count: int = 1) -> None:
    def ready() -> bool:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited with {child.process.returncode} before it was ready")
        return child.log().count(marker) >= count

    times = f" {count} times" if count > 1 else ""
    wait_for(ready, timeout=timeout, what=f"{child.name} to log {marker!r}{times}")


@contextlib.contextmanager
def _running(
    child: ChildProcess, *, marker: str, ready_timeout: float, count: int = 1
) -> Iterator[ChildProcess]:
    try:
        _wait_ready(child, marker, timeout=ready_timeout, count=count)
        yield child
    except BaseException:
        stop(child)
        child.dump_log()
        raise
    else:
        stop(child)


@contextlib.contextmanager
def celery_worker(
    *,
    database_url: str,
    broker_url: str,
    concurrency: int = 1,
    pool: str = "prefork",
    log_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30.0,
    log_level: str = "INFO",
    beat: bool = False,
    cwd: Path = REPO_DIR,
) -> Iterator[ChildProcess]:
    """``celery -A bharatcrm worker`` as a subprocess, yielded once it has logged "ready".

    ``beat`` embeds the periodic scheduler (``-B``), with its schedule file in the log folder.
    ``cwd`` other than the repository needs ``PYTHONPATH`` in ``env`` so ``bharatcrm`` imports.

    Heartbeats, mingle and gossip are off: they only add start-up time and broker chatter.
    The hostname is unique so several workers (and other test runs) never share a name.
    """
    if pool not in {"prefork", "solo", "threads"}:
        raise ValueError(f"unsupported pool {pool!r}")
    hostname = f"wltest-{uuid.uuid4().hex[:10]}@%h"
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bharatcrm",
        "worker",
        f"--loglevel={log_level}",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        f"--hostname={hostname}",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="wl-worker-"))
    if beat:
        args += ["--beat", f"--schedule={log_dir / ('beat-' + hostname.split('@')[0])}"]
    child = _spawn(
        f"celery-worker-{hostname.split('@')[0]}",
        args,
        env=child_env(database_url=database_url, broker_url=broker_url, extra=env),
        log_dir=log_dir,
        cwd=cwd,
    )
    # Celery logs "<nodename> ready." once the consumer is attached to the queue.
    marker = f"{hostname.split('@')[0]}@"
    with _running(child, marker=" ready.", ready_timeout=ready_timeout) as running:
        if marker not in running.log():
            raise RuntimeError(f"{child.name} is ready but did not log its hostname")
        yield running


@contextlib.contextmanager
def gunicorn_server(
    *,
    database_url: str,
    broker_url: str,
    port: int,
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    log_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30.0,
) -> Iterator[ChildProcess]:
    """``gunicorn bharatcrm.wsgi`` on 127.0.0.1, yielded once every worker can answer.

    The listening port is the master's and opens before any worker has loaded Django (1-2 s on
    the shared machine), so an open port alone would start a benchmark's clock, or a test's
    timeout, while the requests wait in the backlog. Each worker logs "Worker ready" once the
    application is loaded (gunicorn.conf.py, read from the working directory).
    """
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "bharatcrm.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        "--keep-alive=30",
        "--log-level=info",
    ]
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="wl-gunicorn-"))
    child = _spawn(
        f"gunicorn-{port}",
        args,
        env=child_env(database_url=database_url, broker_url=broker_url, extra=env),
        log_dir=log_dir,
    )
    with _running(child, marker="Worker ready", ready_timeout=ready_timeout, count=workers) as running:
        wait_for(lambda: _port_open(port), timeout=ready_timeout, what=f"gunicorn on port {port}")
        yield running


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
