"""Reading Meta's usage headers, so the client slows down before Meta blocks it.

Meta reports how much of each rate limit a caller has used on every response:

- ``X-App-Usage``: ``{"call_count": 28, "total_time": 25, "total_cputime": 25}`` (percentages);
- ``X-Ad-Account-Usage``: ``{"acc_id_util_pct": 9.67, "reset_time_duration": 0, ...}``
  (``reset_time_duration`` in seconds);
- ``X-Business-Use-Case-Usage``: ``{"<id>": [{"type": "ads_management", "call_count": 95, ...,
  "estimated_time_to_regain_access": 19}]}`` (that estimate is in minutes).

A header we cannot read counts as no information rather than an error: throttling advice must
never fail a request that otherwise succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PERCENT_KEYS = ("call_count", "total_time", "total_cputime")


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """The worst figures across all usage headers of one response."""

    percent: float = 0.0
    regain_seconds: float = 0.0
    reset_seconds: float = 0.0

    def pause(self, *, threshold: float, near_limit_pause: float) -> float:
        """Seconds to wait before the next call: Meta's own estimate, else a pause near the limit."""
        if self.regain_seconds > 0:
            return self.regain_seconds
        if self.percent >= threshold:
            return self.reset_seconds or near_limit_pause
        return 0.0


def _load(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number > 0 else 0.0


def _percent(entry: Mapping[str, Any], keys: Iterable[str]) -> float:
    return max((_number(entry.get(key)) for key in keys), default=0.0)


def read_usage(headers: Mapping[str, str]) -> Usage:
    """Combine the three headers (``headers`` must be case-insensitive, as requests' are)."""
    percent = regain = reset = 0.0

    app = _load(headers.get("X-App-Usage"))
    if isinstance(app, dict):
        percent = max(percent, _percent(app, PERCENT_KEYS))

    account = _load(headers.get("X-Ad-Account-Usage"))
    if isinstance(account, dict):
        percent = max(percent, _percent(account, ("acc_id_util_pct",)))
        reset = max(reset, _number(account.get("reset_time_duration")))

    business = _load(headers.get("X-Business-Use-Case-Usage"))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    percent = max(percent, _percent(entry, PERCENT_KEYS))
                    regain = max(regain, _number(entry.get("estimated_time_to_regain_access")) * 60)

    return Usage(percent=percent, regain_seconds=regain, reset_seconds=reset)
