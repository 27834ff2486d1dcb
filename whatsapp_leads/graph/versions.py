"""Which Graph API versions Meta still serves, per API, as of the dates Meta published.

Meta retires every version on a schedule, and the Marketing API (ads, insights) on a shorter one
than the rest of the Graph API: a version that still works for the WhatsApp Cloud API may already
be refused for campaign reads. The system checks compare the configured versions with these
tables, so a deployment learns about an expired version from ``manage.py check`` instead of from
failing syncs. Sources (read Nov 2026): the Graph API changelog and the Marketing API versions
page. Versions without a published end date (v26.0, v27.0) are absent. Update the tables when
Meta announces a new version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

VERSION_PATTERN = re.compile(r"^v(\d+)\.(\d+)$")


class Api(StrEnum):
    """The APIs whose version is set separately (see ``WHATSAPP_LEADS['*_API_VERSION']``)."""

    CLOUD = "cloud"  # WhatsApp Cloud API: follows the Graph API schedule
    MARKETING = (
        "marketing"  # Marketing API / Insights (the Conversions API follows Graph's, at least as long)
    )


# Last day each version is served; from the day after, Meta answers with an error.
EXPIRES: dict[Api, dict[str, date]] = {
    Api.CLOUD: {
        "v23.0": date(2027, 10, 8),
        "v24.0": date(2028, 2, 18),
        "v25.0": date(2028, 7, 29),
    },
    Api.MARKETING: {
        "v23.0": date(2026, 6, 9),
        "v24.0": date(2026, 11, 10),
        "v25.0": date(2027, 2, 23),
    },
}

# Versions older than a table's oldest entry: for the Marketing API we know they are gone (Meta
# retires versions in order and v23.0 already was); for the Graph API the tables do not say.
OLDER_ARE_EXPIRED: dict[Api, bool] = {Api.CLOUD: False, Api.MARKETING: True}


def parse_version(version: str) -> tuple[int, int] | None:
    """``"v27.0"`` -> ``(27, 0)``; None for anything Meta would not accept in a URL."""
    match = VERSION_PATTERN.match(version)
    return (int(match[1]), int(match[2])) if match else None


@dataclass(frozen=True, slots=True)
class Expiry:
    """When ``version`` stops (or stopped) working; ``exact`` is False for "at the latest"."""

    version: str
    on: date
    exact: bool = True

    def expired(self, today: date) -> bool:
        return today > self.on


def expiry(version: str, *, api: Api) -> Expiry | None:
    """The end of ``version`` for ``api``, or None when no end date is known."""
    table = EXPIRES[api]
    if version in table:
        return Expiry(version, table[version])
    parsed = parse_version(version)
    if parsed is None or not OLDER_ARE_EXPIRED[api]:
        return None
    oldest = min(table, key=lambda v: parse_version(v) or (0, 0))
    if parsed < (parse_version(oldest) or (0, 0)):
        return Expiry(version, table[oldest], exact=False)
    return None
