"""The test matrix: Python 3.11 and 3.13, Django 5.2 LTS and 6.0, SQLite and PostgreSQL.

``nox -l`` lists the sessions, ``nox -s "tests(3.13-dj6.0-postgres)"`` runs one, and
``nox -t ci`` runs what ``.ci/run`` adds to ``make test`` (which is Python 3.11 with the pinned Django
5.2 on both databases); ``.ci/run`` passes each session its tests (``-m ...``: all but the slow ones,
and on Python 3.13 with Django 5.2 neither the browser nor the volume tests, see there). Every
session installs ``requirements.txt`` with its own Django release in place of the pinned one, and
the package itself, so pip checks that ``pyproject.toml``'s ranges admit that Django.

Each session has its own PostgreSQL database (``TEST_POSTGRES_URL``'s name plus the session's
suffix, e.g. ``whatsapp_leads_py313_dj60``) and its own Redis database (the table below, on
``TEST_REDIS_URL``'s server, or ``NOX_REDIS_URL`` when set: then run sessions one after another),
so sessions never flush or drop each other's data, even when run side by side.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PYTHONS = ["3.11", "3.13"]
# Django release of each series under test; 5.2 comes pinned from requirements.txt.
DJANGO_60 = "Django==6.0.10"
DJANGO_MIN_PYTHON = {"5.2": (3, 10), "6.0": (3, 12)}
# Redis database of each session; make test's lanes use 15, 14 and 6, make bench 7.
REDIS_DBS = {
    ("3.11", "5.2", "sqlite"): 8,
    ("3.11", "5.2", "postgres"): 9,
    ("3.13", "5.2", "sqlite"): 10,
    ("3.13", "5.2", "postgres"): 11,
    ("3.13", "6.0", "sqlite"): 12,
    ("3.13", "6.0", "postgres"): 13,
}
MAIN = ("3.11", "5.2")  # the combination make test runs (.ci/run's first test step)

# uv (requirements.txt) creates and fills a session's venv in seconds; plain venv + pip without it.
nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_venv = "yes"
# The interpreters come from PATH (.ci/run and make matrix put pyenv's there); never from the network.
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = True


def _django_requirement(django: str) -> str:
    if django == "5.2":
        pins = (ROOT / "requirements.txt").read_text()
        match = re.search(r"^Django==5\.2\.\d+$", pins, flags=re.MULTILINE)
        if match is None:
            raise RuntimeError("requirements.txt must pin Django 5.2.x")
        return match.group(0)
    return DJANGO_60


def _with_db(url: str, suffix: str) -> str:
    """``url`` with its database name followed by ``suffix`` (query string kept)."""
    head, sep, query = url.partition("?")
    base, _, name = head.rpartition("/")
    return f"{base}/{name}_{suffix}{sep}{query}"


def _redis_url(key: tuple[str, str, str]) -> str:
    if os.environ.get("NOX_REDIS_URL"):
        return os.environ["NOX_REDIS_URL"]
    server = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")[0]
    return f"{server}/{REDIS_DBS[key]}"


def _runs(python: str, django: str) -> bool:
    """Whether Django ``django`` supports Python ``python`` (the session skips itself otherwise)."""
    return tuple(int(part) for part in python.split(".")) >= DJANGO_MIN_PYTHON[django]


def _ci_tags(python: str, django: str, db: str) -> list[str]:
    # Not the combination make test runs, and not one that would only skip (3.11 with Django 6.0):
    # .ci/run would create its venv and start it beside the others for nothing.
    runs = db == "postgres" and (python, django) != MAIN and _runs(python, django)
    return ["ci"] if runs else []


@nox.session
@nox.parametrize(
    "python,django,db",
    [
        nox.param(python, django, db, id=f"{python}-dj{django}-{db}", tags=_ci_tags(python, django, db))
        for python in PYTHONS
        for django in ("5.2", "6.0")
        for db in ("sqlite", "postgres")
    ],
)
def tests(session: nox.Session, django: str, db: str) -> None:
    """The whole suite on one Python, one Django release and one database."""
    python = str(session.python)  # nox takes the "python" parameter as the session's interpreter
    needs = DJANGO_MIN_PYTHON[django]
    if not _runs(python, django):
        session.skip(
            f"Django {django} needs Python >= {needs[0]}.{needs[1]}, this session is Python {python}"
        )
    key = (python, django, db)
    suffix = f"py{python.replace('.', '')}_dj{django.replace('.', '')}"
    pins = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if not line.startswith("Django==")
    ]
    requirements = Path(session.create_tmp()) / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    started = time.monotonic()
    session.install("--quiet", "-r", str(requirements), _django_requirement(django), ".")
    session.log(f"installed in {time.monotonic() - started:.0f} s")
    session.run("python", "-c", "import django; print('Django', django.get_version())", silent=False)
    env = {"TEST_REDIS_URL": _redis_url(key)}
    if db == "postgres":
        postgres = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/whatsapp_leads")
        env["DATABASE_URL"] = _with_db(postgres, suffix)
        marker = []
    else:
        env["DATABASE_URL"] = "sqlite:///:memory:"
        marker = ["-m", "not postgres"]
    print(f"database {env['DATABASE_URL']}, redis {env['TEST_REDIS_URL']}")
    started = time.monotonic()
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *marker, *session.posargs, env=env)
    session.log(f"tests ran in {time.monotonic() - started:.0f} s")
