"""Write a ``.env`` with fresh random secrets for a local run, unless one exists.

``make run`` calls it first. An existing ``.env`` is never touched, whatever it holds: it may be
someone's real configuration. Secrets are written, never printed (``make run`` shows only what a
person needs: the verify token for Meta's App Dashboard and the demo logins).

    python scripts/bootstrap_env.py [--path .env]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TEMPLATE = """\
# Written by scripts/bootstrap_env.py for a local run (make run). Not for production.
# Real values from the environment win over this file. Keep it out of version control.
DEBUG=true
DJANGO_SECRET_KEY={secret_key}
# App Dashboard > App settings > Basic > App secret; comma-separate two while rotating.
WHATSAPP_APP_SECRET={app_secret}
# The string typed into the App Dashboard's webhook "Verify token" field.
WHATSAPP_VERIFY_TOKEN={verify_token}
# Username that gets the leads no campaign claims.
WHATSAPP_DEFAULT_OWNER=admin
# Logins that manage.py whatsapp_demo creates (and prints).
DEMO_ADMIN_PASSWORD={admin_password}
DEMO_REP_PASSWORD={rep_password}
"""


def render() -> str:
    """The file's text with new secrets; token_urlsafe keeps clear of characters .env parsers treat specially."""
    return TEMPLATE.format(
        secret_key=secrets.token_urlsafe(50),
        app_secret=secrets.token_hex(16),  # Meta's app secrets are 32 hex digits
        verify_token=secrets.token_urlsafe(18),
        admin_password=secrets.token_urlsafe(12),
        rep_password=secrets.token_urlsafe(12),
    )


def create(path: Path) -> bool:
    """Create ``path`` readable by its owner only; False (and no change) when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(render())
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=ROOT / ".env", help="Where to write (default: .env)")
    path = parser.parse_args(argv).path
    if create(path):
        print(f"Created {path} with fresh random secrets (DJANGO_SECRET_KEY, WHATSAPP_APP_SECRET, ...).")
    else:
        print(f"{path} exists: left unchanged.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
