"""The bench's own PostgreSQL database: created fresh, migrated, dropped at the end.

A fixed name (``wl_bench`` by default) that nothing else uses, so a bench never touches a
developer's or a test run's data, and a crashed run is simply replaced by the next one.
"""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlparse

from scripts.processes import REPO_DIR, child_env


def _admin_connection(url: str):
    """A connection to the server's maintenance database, where CREATE/DROP DATABASE run."""
    import psycopg

    parsed = urlparse(url)
    return psycopg.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name:
        raise ValueError(f"no database name in {url!r}")
    return name


def recreate(url: str) -> None:
    """Drop (disconnecting any leftover sessions) and create the bench database, then migrate it."""
    from psycopg import sql

    name = database_name(url)
    with _admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity=0"],
        cwd=REPO_DIR,
        env=child_env(database_url=url),
        check=True,
    )


def drop(url: str) -> None:
    from psycopg import sql

    with _admin_connection(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url)))
        )
