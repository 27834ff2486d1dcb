"""What a unit of background work reports back, and how long to wait before trying it again.

Services return an ``Outcome`` rather than raising, so a task stays a thin wrapper: it retries
when ``retry_in`` is set and otherwise returns ``status`` for Celery's result and logs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """``status`` names what happened (processed, failed, skipped, downloaded, found…); ``retry_in``
    asks for another attempt after that many seconds; ``detail`` carries counts for the caller."""

    status: str
    retry_in: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def backoff(attempt: int, *, base: float, cap: float, jitter: float = 0.0, at_least: float = 0.0) -> int:
    """Seconds before attempt ``attempt + 1``: ``base * 2**(attempt - 1)``, capped, never below ``at_least``.

    ``attempt`` counts the attempts made so far (1 after the first failure). ``jitter`` (a fraction,
    e.g. 0.2) spreads retries of many items that failed together, so they do not return in one wave.
    """
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    if jitter:
        delay *= 1 + random.uniform(-jitter, jitter)
    return int(max(delay, at_least, 0))
