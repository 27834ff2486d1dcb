"""Daily spend per ad from the Marketing API insights, stored as ``AdSpend`` (one row per ad and day).

Meta restates recent days (attribution windows up to 28 days), so every run re-reads a trailing
window and upserts by (ad, day); running it twice changes nothing. Amounts are in each ad
account's currency, as Meta reports them. Rows link to our ``Ad`` and ``Campaign`` when those are
known (the campaign sync creates them), and keep Meta's ids either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..conf import app_settings
from ..graph import Api, GraphAPIError, GraphClient, is_configured
from ..graph.insights import AdDay, ad_day_pages
from ..graph.marketing import normalize_account_id
from ..models import Ad, AdSpend, Campaign
from .campaign_sync import configured_accounts
from .routing.hours import business_time_zone

logger = logging.getLogger(__name__)


@dataclass
class SpendReport:
    accounts: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    created: int = 0
    updated: int = 0
    spend: dict[str, Decimal] = field(default_factory=dict)  # currency -> total read
    errors: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "accounts": len(self.accounts),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "rows_created": self.created,
            "rows_updated": self.updated,
            "spend": {currency: str(total) for currency, total in sorted(self.spend.items())},
            "errors": self.errors,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SpendProgress:
    account: str
    position: int
    total: int
    rows: int


Progress = Callable[[SpendProgress], None]


def default_window(*, today: date | None = None) -> tuple[date, date]:
    """The trailing SPEND_SYNC_DAYS up to today (business time zone), which Meta may still restate."""
    today = today or timezone.localtime(timezone.now(), business_time_zone()).date()
    return today - timedelta(days=max(1, int(app_settings.SPEND_SYNC_DAYS)) - 1), today


def _save(rows: list[AdDay], *, account_id: str, report: SpendReport) -> None:
    ads = {a.meta_id: a for a in Ad.objects.filter(meta_id__in={r.ad_id for r in rows})}
    campaigns = dict(
        Campaign.objects.filter(meta_id__in={r.campaign_id for r in rows if r.campaign_id}).values_list(
            "meta_id", "pk"
        )
    )
    now = timezone.now()
    for row in rows:
        ad = ads.get(row.ad_id)
        values = {
            "ad_id": ad.pk if ad else None,
            "campaign_meta_id": row.campaign_id,
            "campaign_id": campaigns.get(row.campaign_id) or (ad.campaign_id if ad else None),
            "account_id": account_id,
            "spend": row.spend,
            "currency": row.currency,
            "impressions": row.impressions,
            "clicks": row.clicks,
            "conversations": row.conversations,
            "synced_at": now,
        }
        for _ in range(2):
            try:
                with transaction.atomic():
                    _, created = AdSpend.objects.update_or_create(
                        ad_meta_id=row.ad_id, date=row.day, defaults=values
                    )
                break
            except IntegrityError:  # a concurrent sync inserted it: update theirs
                continue
        else:
            raise IntegrityError(f"could not save the spend of ad {row.ad_id} on {row.day}")
        report.created += created
        report.updated += not created
        report.spend[row.currency] = report.spend.get(row.currency, Decimal("0")) + row.spend


def sync_spend(
    accounts: Iterable[str] | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    client: GraphClient | None = None,
    progress: Progress | None = None,
) -> SpendReport:
    """Read and store the accounts' daily spend per ad; one failing account does not stop the rest.

    Raises ``GraphNotConfigured`` without a token and ``ValueError`` for a malformed account id or
    a window that ends before it starts, before any call to Meta.
    """
    wanted = [normalize_account_id(a) for a in accounts] if accounts is not None else configured_accounts()
    first, last = default_window()
    since, until = since or first, until or last
    if since > until:
        raise ValueError(f"--since {since} is after --until {until}")
    client = client or GraphClient.from_settings(api=Api.MARKETING)
    report = SpendReport(accounts=wanted, since=since, until=until)
    action = str(app_settings.INSIGHTS_CONVERSATION_ACTION)
    for position, account_id in enumerate(wanted, start=1):
        rows = 0
        try:
            for page in ad_day_pages(account_id, since=since, until=until, client=client, action_type=action):
                _save(page, account_id=account_id, report=report)
                rows += len(page)
                if progress is not None:
                    progress(
                        SpendProgress(account=account_id, position=position, total=len(wanted), rows=rows)
                    )
        except GraphAPIError as error:
            logger.warning("spend sync of %s failed: %s", account_id, error)
            report.errors[account_id] = str(error)
    return report


def scheduled_sync() -> dict[str, Any]:
    """The beat job: the trailing window of every configured account; a logged no-op without a token."""
    if not is_configured(Api.MARKETING):
        logger.info("spend sync skipped: no Meta access token (set META_ACCESS_TOKEN)")
        return {"skipped": "no access token"}
    try:
        accounts = configured_accounts()
    except ValueError as error:
        logger.error("spend sync skipped: META_AD_ACCOUNT_IDS is wrong: %s", error)
        return {"skipped": str(error)}
    if not accounts:
        logger.info("spend sync skipped: no ad accounts (set META_AD_ACCOUNT_IDS)")
        return {"skipped": "no ad accounts"}
    summary = sync_spend(accounts).summary()
    logger.info("spend sync: %s", summary)
    return summary
