"""``make run``: set up a local instance and run the web server and a Celery worker side by side.

Steps: write ``.env`` if missing (fresh secrets), create the folders the embedded SQLite database
and filesystem broker need, migrate, load the demo data, start ``runserver`` and ``celery worker
-B`` (embedded beat, for the sweep), wait until the site answers, then print where to log in and
the command that simulates an ad click. Ctrl-C (or SIGTERM) stops both and waits for them.

With ``DATABASE_URL`` / ``CELERY_BROKER_URL`` set, PostgreSQL / Redis are used as they are.
Python rather than shell so the supervision (process groups, signals, readiness) is the same
on every system with Python 3.11.

    .venv/bin/python scripts/run.py [--host 127.0.0.1] [--port 8000] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
DEMO_AD_ID = "120226305854810726"
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20


def ensure_env(path: Path) -> str:
    """Write ``path`` if it is missing; the one line saying which happened.

    ``make run`` leaves the ``.env`` to this script (its target does not depend on the Makefile's
    ``.env`` rule), so the line is true on the first run as on every later one.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from scripts.bootstrap_env import create

    if create(path):
        return f"Created {path.name} with fresh random secrets (never printed)."
    return f"Using the existing {path.name} (left unchanged)."


def prepare() -> dict[str, str]:
    """Write .env, load the settings it feeds, and create the folders they point at; facts to print."""
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    print(ensure_env(ROOT / ".env"))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bharatcrm.settings")
    import django

    django.setup()
    from django.conf import settings

    from whatsapp_leads.conf import app_settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith(("sqlite3", ".sqlite")) and str(database["NAME"]) != ":memory:":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    var_dir = Path(os.environ.get("BHARATCRM_VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    return {
        "database": database["ENGINE"].rsplit(".", 1)[-1],
        "broker": settings.CELERY_BROKER_URL.split("://", 1)[0],
        "verify_token": app_settings.VERIFY_TOKEN,
        "beat_schedule": str(var_dir / "celerybeat-schedule"),
    }


def manage(*args: str) -> None:
    """Run a manage.py command to completion; a failure stops make run with its exit code."""
    completed = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=False)
    if completed.returncode:
        sys.exit(completed.returncode)


def port_in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def relay(name: str, stream: IO[str]) -> None:
    """Prefix each line with the process name, so web and worker logs can be told apart."""
    for line in stream:
        sys.stdout.write(f"[{name}] {line}")
        sys.stdout.flush()


class Supervisor:
    """Children in their own process groups: Ctrl-C reaches only us, and we stop them in order."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.stopping = False

    def start(self, name: str, args: list[str]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.procs[name] = proc
        threading.Thread(target=relay, args=(name, proc.stdout), daemon=True).start()

    def exited(self) -> str | None:
        return next((name for name, proc in self.procs.items() if proc.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM each main process (Celery then finishes its running task), then SIGKILL leftovers."""
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # pool children left behind
            proc.wait()


def wait_until_ready(url: str, supervisor: Supervisor) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not supervisor.exited() and not supervisor.stopping:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own http URL)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def banner(base: str, facts: dict[str, str]) -> str:
    webhook = f"{base}/whatsapp/webhook/"
    simulate = (
        f".venv/bin/python manage.py whatsapp_simulate --url {webhook} --ad-id {DEMO_AD_ID} "
        '--name "Asha" --phone +919876543210 --text "Hi, I\'m interested"'
    )
    return "\n".join(
        [
            "",
            "=" * 78,
            f" Running: web + Celery worker (with beat) on {facts['database']} and the {facts['broker']} broker.",
            f" Admin:          {base}/admin/   (logins printed above by whatsapp_demo)",
            f" Webhook:        {webhook}",
            f" Verify token:   {facts['verify_token'] or '(not set: WHATSAPP_VERIFY_TOKEN)'}",
            " Simulate a Click-to-WhatsApp ad click (in another terminal, from this folder):",
            f"   {simulate}",
            " Then open Leads in the admin: the lead is there, assigned to rep1 or rep2.",
            " Ctrl-C stops both processes.",
            "=" * 78,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Set up and run web + worker locally.")
    parser.add_argument("--host", default=os.environ.get("RUN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RUN_PORT", "8000")))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("RUN_CONCURRENCY", "2")))
    args = parser.parse_args(argv)

    facts = prepare()
    if port_in_use(args.host, args.port):
        print(
            f"Port {args.port} on {args.host} is already in use: stop that server or run make run RUN_PORT=8001."
        )
        return 1
    manage("migrate", "--noinput")
    manage("whatsapp_demo")

    supervisor = Supervisor()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not supervisor.stopping:
            print(f"\nStopping ({signal.Signals(signum).name}) ...", flush=True)
        supervisor.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    base = f"http://{args.host}:{args.port}"
    supervisor.start(
        "web", [sys.executable, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"]
    )
    supervisor.start(
        "worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bharatcrm",
            "worker",
            "-B",
            "--schedule",
            facts["beat_schedule"],
            "--concurrency",
            str(args.concurrency),
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
    )
    if wait_until_ready(f"{base}/healthz/", supervisor):
        print(banner(base, facts), flush=True)
    elif not supervisor.stopping and not supervisor.exited():
        print(f"The web server did not answer {base}/healthz/ within {READY_TIMEOUT_SECONDS}s.", flush=True)
    while not supervisor.stopping:
        name = supervisor.exited()
        if name:
            print(f"The {name} process exited; stopping the other.", flush=True)
            supervisor.stop()
            return 1
        time.sleep(0.3)
    supervisor.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
