"""Marketing API insights: daily spend per ad, read a page at a time (HTTP only).

``GET /act_<id>/insights?level=ad&time_increment=1&time_range=...`` with the fields we keep.
Meta sends numbers as strings and leaves out ``actions`` when empty and ads without delivery
altogether; both become zeros or absences here, never exceptions. Paging, throttling and retries
are the client's (``GraphClient.paginate``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .client import GraphClient
from .marketing import normalize_account_id

FIELDS = "date_start,account_currency,campaign_id,adset_id,ad_id,ad_name,spend,impressions,clicks,actions"
PAGE_SIZE = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class AdDay:
    ad_id: str
    day: date
    campaign_id: str = ""
    spend: Decimal = Decimal("0")
    currency: str = ""
    impressions: int = 0
    clicks: int = 0
    conversations: int = 0


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("0")
    return number if number.is_finite() and number > 0 else Decimal("0")


def _int(value: Any) -> int:
    return int(_decimal(value))


def _action(actions: Any, action_type: str) -> int:
    for action in actions if isinstance(actions, list) else []:
        if isinstance(action, dict) and action.get("action_type") == action_type:
            return _int(action.get("value"))
    return 0


def _row(raw: dict[str, Any], *, action_type: str) -> AdDay | None:
    try:
        day = date.fromisoformat(str(raw.get("date_start")))
    except ValueError:
        return None
    if not raw.get("ad_id"):
        return None
    return AdDay(
        ad_id=str(raw["ad_id"]),
        day=day,
        campaign_id=str(raw.get("campaign_id") or ""),
        spend=_decimal(raw.get("spend")),
        currency=str(raw.get("account_currency") or "")[:3].upper(),
        impressions=_int(raw.get("impressions")),
        clicks=_int(raw.get("clicks")),
        conversations=_action(raw.get("actions"), action_type),
    )


def ad_day_pages(
    account_id: str, *, since: date, until: date, client: GraphClient, action_type: str
) -> Iterator[list[AdDay]]:
    """Every (ad, day) of the account between ``since`` and ``until`` (inclusive), a page at a time."""
    params = {
        "level": "ad",
        "time_increment": 1,
        "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
        "action_breakdowns": "action_type",
        "fields": FIELDS,
        "limit": PAGE_SIZE,
    }
    path = f"{normalize_account_id(account_id)}/insights"
    for page in client.paginate(path, params=params):
        yield [row for raw in page if (row := _row(raw, action_type=action_type)) is not None]
