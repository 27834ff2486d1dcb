"""``make api-check``: schemathesis against a live server, to prove the REST API does what its schema says.

It starts gunicorn on a free 127.0.0.1 port over a throwaway SQLite database (migrated; seeded by
``manage.py whatsapp_demo`` plus a manager and a few leads with transcripts and owners, processed
from webhook payloads like real ones), points ``schemathesis run`` at ``/whatsapp/api/schema/``
with the manager's Basic credentials, and stops the server whatever happens. The run is bounded
(``--max-examples``, ``--max-time``); any failure (a 5xx, an undocumented status or body, valid
input refused, invalid input accepted, auth ignored) makes the exit status non-zero.

    python scripts/api_contract.py [--max-examples 30] [--max-time 90] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.processes import REPO_DIR, child_env, free_port, gunicorn_server  # noqa: E402

MANAGER = "api_manager"
SCHEMA_PATH = "/whatsapp/api/schema/"
CONFIG = Path(__file__).with_suffix(".toml")  # the one narrow exception to the checks, explained there


def seed() -> None:
    """Runs in a child with the throwaway database: a manager and leads in every state the API shows."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from whatsapp_leads.management.commands.whatsapp_demo import AD_META_ID, MANAGERS_GROUP
    from whatsapp_leads.models import Lead, WebhookEvent
    from whatsapp_leads.providers.meta.simulation import dumps, inbound
    from whatsapp_leads.services import assignment
    from whatsapp_leads.services.processing import process_event

    manager = get_user_model()._default_manager.create_user(
        username=MANAGER, password=os.environ["API_CONTRACT_PASSWORD"], is_staff=True
    )
    manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    # And may erase, so DELETE (the DPDP erasure) is exercised too, not only refused.
    manager.user_permissions.add(
        Permission.objects.get(content_type__app_label="whatsapp_leads", codename="delete_lead")
    )
    # A token, not Basic auth: Basic hashes the password (PBKDF2, a million rounds) on every
    # request, which would make the run measure the hasher instead of the API.
    from rest_framework.authtoken.models import Token

    Token.objects.create(user=manager, key=os.environ["API_CONTRACT_TOKEN"])
    for n in range(6):
        wa_id = f"9198765{n:05d}"
        for minute, text in enumerate(("Home loan?", "40 lakh", "Pune")):
            body = inbound(wa_id=wa_id, name=f"Lead {n}", text=text, timestamp=1749416383 + 60 * minute)
            if n % 2 == 0 and minute == 0:
                body = inbound(
                    wa_id=wa_id, name=f"Lead {n}", text=text, ad_id=AD_META_ID, timestamp=1749416383
                )
            process_event(WebhookEvent.objects.create(body=dumps(body)).pk)
    lead = Lead.objects.order_by("pk").first()
    assert lead is not None, "the seed made no lead"
    assignment.reassign(lead, owner=manager, by=manager)
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.QUALIFIED)
    print(f"seeded {Lead.objects.count()} leads, manager {MANAGER}")


def manage(*args: str, env: dict[str, str]) -> None:
    """A management command in the throwaway setup; its output (the demo's passwords) is not shown."""
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=REPO_DIR, env=env, check=True, stdout=subprocess.DEVNULL
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=30, help="test cases per operation and phase")
    parser.add_argument("--max-time", type=int, default=90, help="seconds for the whole schemathesis run")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis's random seed (reproduce a run)")
    # The coverage phase (every boundary value of every parameter, about 300 cases) is what CI runs:
    # it is deterministic and passes. It is CPU-bound in schemathesis itself (about 200 s on one
    # idle core) and ignores --max-time. `--phases all` adds random fuzzing and stateful runs, which
    # still find schema gaps in the newest filters (see the CHANGELOG's "Known gaps").
    parser.add_argument(
        "--phases",
        default="examples,coverage",
        help="schemathesis phases, comma-separated, or 'all' (examples,coverage,fuzzing,stateful)",
    )
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)  # the child's job
    options = parser.parse_args()
    if options.seed_only:
        seed()
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="wl-api-contract-"))
    password = secrets.token_urlsafe(16)
    token = secrets.token_hex(20)  # DRF's token keys are 40 characters
    database_url = f"sqlite:///{workdir / 'api.sqlite3'}"
    env = child_env(
        database_url=database_url,
        broker_url="filesystem://",
        extra={
            "BHARATCRM_VAR_DIR": str(workdir),
            "API_CONTRACT_PASSWORD": password,
            "API_CONTRACT_TOKEN": token,
            "DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(16),
            "DEMO_REP_PASSWORD": secrets.token_urlsafe(16),
        },
    )
    try:
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("whatsapp_demo", env=env)
        subprocess.run([sys.executable, __file__, "--seed-only"], cwd=REPO_DIR, env=env, check=True)  # noqa: S603
        port = free_port()
        with gunicorn_server(
            database_url=database_url,
            broker_url="filesystem://",
            port=port,
            workers=2,
            env=env,
            log_dir=workdir,
        ) as server:
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file",
                str(CONFIG),
                "run",
                f"http://127.0.0.1:{port}{SCHEMA_PATH}",
                "--header",
                f"Authorization: Token {token}",
                "--checks",
                "all",
                "--max-examples",
                str(options.max_examples),
                "--max-time",
                str(options.max_time),
                "--workers",
                "2",
                "--request-timeout",
                "10",
                "--generation-database",
                "none",
                "--no-color",
            ]
            if options.phases != "all":
                command += ["--phases", options.phases]
            if options.seed is not None:
                command += ["--seed", str(options.seed)]
            result = subprocess.run(command, cwd=workdir, env=env, check=False)  # noqa: S603
            if result.returncode != 0 or "Traceback" in server.log():
                server.dump_log(tail=80)
            return result.returncode
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
