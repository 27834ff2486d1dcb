"""``make run`` on a bare machine: what it says about ``.env``, and where the file broker writes.

The broker test starts a real Celery worker on kombu's filesystem transport in an empty working
directory and pings it through the remote-control (fanout) exchange, the part that used to write
``control/`` into the working directory.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.processes import REPO_DIR, celery_worker, child_env
from scripts.run import ensure_env

# --- the .env line ---------------------------------------------------------------------------------


def test_first_run_says_it_created_the_env_and_later_runs_that_they_use_it(tmp_path):
    path = tmp_path / ".env"

    first = ensure_env(path)
    written = path.read_text()
    second = ensure_env(path)

    assert first.startswith("Created .env")
    assert second.startswith("Using the existing .env")
    assert path.read_text() == written


def make_dry_run(target: str, *, tmp_path: Path) -> str:
    """``make -n <target>`` on a copy of the Makefile in a checkout that has no ``.env`` yet."""
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy(REPO_DIR / name, tmp_path / name)
    completed = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_leaves_the_env_to_run_py_so_only_one_line_is_printed(tmp_path):
    commands = make_dry_run("run", tmp_path=tmp_path)

    assert "scripts/run.py" in commands
    assert "bootstrap_env.py" not in commands


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_other_make_targets_still_write_a_missing_env(tmp_path):
    assert "scripts/bootstrap_env.py" in make_dry_run("test-sqlite", tmp_path=tmp_path)


# --- the filesystem broker's folders -----------------------------------------------------------------


def child_settings(*, cwd: Path, env: dict[str, str]) -> dict:
    """The broker settings a child process started in ``cwd`` with ``env`` would use."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'url': settings.CELERY_BROKER_URL, "
        "'options': getattr(settings, 'CELERY_BROKER_TRANSPORT_OPTIONS', {})}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


@pytest.mark.slow
def test_file_broker_worker_and_remote_control_write_only_under_var(tmp_path):
    workdir, var_dir = tmp_path / "checkout", tmp_path / "checkout" / "var"
    workdir.mkdir()
    env = child_env(
        database_url=f"sqlite:///{var_dir / 'db.sqlite3'}",
        broker_url="filesystem://",
        extra={"BHARATCRM_VAR_DIR": str(var_dir), "PYTHONPATH": str(REPO_DIR)},
    )
    broker = child_settings(cwd=workdir, env=env)
    folders = {key: Path(value) for key, value in broker["options"].items() if "folder" in key}
    assert broker["url"] == "filesystem://"
    assert all(folder.is_relative_to(var_dir) for folder in folders.values()), folders
    # What scripts/run.py creates before starting the worker; the control folder is left to kombu.
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        folders[key].mkdir(parents=True, exist_ok=True)

    with celery_worker(
        database_url=env["DATABASE_URL"],
        broker_url="filesystem://",
        pool="solo",
        cwd=workdir,
        env={"BHARATCRM_VAR_DIR": str(var_dir), "PYTHONPATH": str(REPO_DIR)},
        log_dir=tmp_path / "logs",
    ) as worker:
        # Addressed to this worker, the ping returns with its pong instead of waiting out the
        # timeout for any other worker's; it still goes out through the fanout exchange. So the
        # timeout is only paid when no pong comes: generous, for a busy machine polling files.
        node = re.search(r"(wltest-[0-9a-f]+@\S+) ready\.", worker.log())
        assert node is not None, worker.log()
        ping = subprocess.run(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bharatcrm",
                "inspect",
                "ping",
                "--timeout",
                "30",
                "--destination",
                node.group(1),
            ],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
        )

    assert "pong" in ping.stdout, ping.stdout + ping.stderr
    assert sorted(path.name for path in workdir.iterdir()) == ["var"]
    assert (folders["control_folder"] / "celery.pidbox.exchange").is_file()
