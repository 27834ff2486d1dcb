"""The web server once it is up: the URLconf is loaded with the application, not by the first
request, and ``gunicorn_server`` hands over a server whose every worker can answer.

Both hold for the first webhooks after a start or a worker restart: before, they waited for
Django to import the admin, DRF and the API (the URLconf), and a benchmark's clock (or a test's
timeout) started while gunicorn's only worker was still importing Django behind the master's
open port.
"""

from __future__ import annotations

import http.client
import subprocess
import sys

import pytest

from scripts.processes import REPO_DIR, child_env, free_port, gunicorn_server


def test_the_wsgi_module_imports_the_urlconf_with_the_application(tmp_path):
    # A fresh interpreter: under pytest the URLconf is long imported.
    script = (
        "import sys, bharatcrm.wsgi as w; "
        "print('whatsapp_leads.api.urls' in sys.modules, 'bharatcrm.urls' in sys.modules, "
        "len(w.URL_PATTERNS) > 0)"
    )
    env = child_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", broker_url="filesystem://")
    env["BHARATCRM_VAR_DIR"] = str(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_DIR, env=env, capture_output=True, text=True, check=True
    )

    assert completed.stdout.split() == ["True", "True", "True"]


@pytest.mark.slow
def test_gunicorn_server_yields_once_every_worker_logged_ready_and_it_answers(tmp_path):
    port = free_port()
    with gunicorn_server(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        broker_url="filesystem://",
        port=port,
        workers=2,
        log_dir=tmp_path / "logs",
        env={"BHARATCRM_VAR_DIR": str(tmp_path)},
    ) as server:
        booted = server.log().count("Worker ready")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/whatsapp/webhook/?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
        status = conn.getresponse().status
        conn.close()

    assert booted == 2
    assert status == 403  # answered by the app: a wrong verify token
