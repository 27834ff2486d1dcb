"""Meta's ``X-Hub-Signature-256``: HMAC-SHA256 of the raw request body keyed with the app secret."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send for ``body``; used by the simulator and tests."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_meta_signature(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when ``header`` is a valid signature of ``body`` under any of ``secrets``.

    Every secret is compared, in constant time, even after a match, so timing reveals neither
    the signature nor which secret (old or new, during rotation) matched.
    """
    if not header or not header.startswith(PREFIX):
        return False
    given = header[len(PREFIX) :].strip().lower().encode()
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(expected, given)
    return matched
