"""Campaigns, ad sets and ads from Meta's Marketing API: one ad looked up by id, or whole accounts synced.

Both paths only ever *add knowledge*: names, the ad -> ad set -> campaign links, Meta's statuses.
Neither re-assigns a lead: a lead whose ad had no campaign when it arrived gets the campaign
now, but keeps its owner (routing happened when the lead was new, and a rep may already be
talking to them). Lookups run in their own task after the lead's transaction has committed, so
Meta being slow or down never delays a lead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from ..conf import app_settings
from ..graph import Api, GraphAPIError, GraphClient, GraphNotConfigured, is_configured
from ..graph.marketing import (
    AdInfo,
    AdSetInfo,
    CampaignInfo,
    ad_pages,
    ad_set_pages,
    fetch_ad,
    normalize_account_id,
)
from ..models import Ad, AdSet, Campaign, Lead
from ..outcomes import Outcome, backoff
from ..queueing import LOOKUP_AD, publish
from .fitting import exact, fitted

logger = logging.getLogger(__name__)

# Task retries for a failed lookup: 1, 2, 4 ... 60 minutes apart, about two hours in all.
LOOKUP_MAX_RETRIES = 7
LOOKUP_BACKOFF_SECONDS = 60
LOOKUP_BACKOFF_MAX_SECONDS = 3600
# Ads no lookup ever reached (broker down, token added later) are looked up by the hourly sync.
LOST_LOOKUP_AFTER = timedelta(minutes=10)

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# Bookkeeping fields: written every time, but a change to them alone is not an "update".
_QUIET_FIELDS = frozenset({"synced_at", "looked_up_at", "lookup_error"})


# --- saving what Meta told us ----------------------------------------------------------------


def _present(**values: Any) -> dict[str, Any]:
    """Drop empty strings: a field Meta did not send must not blank what we already know."""
    return {key: value for key, value in values.items() if value != ""}


def _upsert(model: type[models.Model], *, meta_id: str, values: dict[str, Any]) -> tuple[Any, str]:
    """Create or update the row for ``meta_id``; the unique constraint settles concurrent creators."""
    for _ in range(3):
        row = model._default_manager.filter(meta_id=meta_id).first()
        if row is None:
            try:
                with transaction.atomic():
                    return model._default_manager.create(meta_id=meta_id, **values), CREATED
            except IntegrityError:
                continue  # another worker created it first: update theirs
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        if changed:
            for name in changed:
                setattr(row, name, values[name])
            row.save(update_fields=[*changed, "updated_at"])
        loud = [name for name in changed if name not in _QUIET_FIELDS]
        return row, UPDATED if loud else UNCHANGED
    raise IntegrityError(f"could not save {model.__name__} {meta_id}")


def save_campaign(
    info: CampaignInfo, *, account_id: str = "", now: datetime | None = None
) -> tuple[Campaign, str]:
    values = _present(
        **fitted(
            Campaign, name=info.name, objective=info.objective, status=info.status, account_id=account_id
        )
    )
    if now is not None:
        values["synced_at"] = now
    if not Campaign.objects.filter(meta_id=info.meta_id).exists():
        values.setdefault("name", f"Campaign {info.meta_id}")
    return _upsert(
        Campaign, meta_id=exact(Campaign, "meta_id", info.meta_id, label="campaign id"), values=values
    )


def save_adset(
    info: AdSetInfo, *, campaign: Campaign | None, account_id: str = "", now: datetime | None = None
) -> tuple[AdSet, str]:
    values = _present(
        **fitted(
            AdSet,
            name=info.name,
            destination_type=info.destination_type,
            status=info.status,
            effective_status=info.effective_status,
            account_id=account_id,
        )
    )
    if campaign is not None:
        values["campaign_id"] = campaign.pk
    if now is not None:
        values["synced_at"] = now
    return _upsert(AdSet, meta_id=exact(AdSet, "meta_id", info.meta_id, label="ad set id"), values=values)


def link_leads(ad: Ad) -> int:
    """Give the ad's campaign to its leads that arrived without one; owners are left alone."""
    if ad.campaign_id is None:
        return 0
    return Lead.objects.filter(ad_id=ad.pk, campaign__isnull=True).update(
        campaign_id=ad.campaign_id, updated_at=timezone.now()
    )


# --- one ad, looked up by id -----------------------------------------------------------------


def lookup_backoff(attempt: int) -> int:
    """Seconds before retry ``attempt + 1`` (``attempt`` counts from 0): a minute, doubling, at most an hour."""
    return backoff(attempt + 1, base=LOOKUP_BACKOFF_SECONDS, cap=LOOKUP_BACKOFF_MAX_SECONDS)


def schedule_ad_lookup(ad_id: str) -> bool:
    """Queue the lookup of a newly seen ad; True when queued. Call after commit.

    Never raises: the lead is already stored, and an ad missed here is looked up by the hourly
    sync (``queue_lost_lookups``). Without a token there is nobody to ask, so nothing is queued.
    """
    if not is_configured(Api.MARKETING):
        return False
    return publish(LOOKUP_AD, ad_id, what=f"the lookup of ad {ad_id}")


def look_up_after_commit(ad_id: str) -> None:
    """Queue the lookup once the current transaction commits (never for a rolled-back lead).

    Without a token nothing is registered at all, so hosts that do not use the Marketing API see
    no extra work.
    """
    if is_configured(Api.MARKETING):
        transaction.on_commit(lambda: schedule_ad_lookup(ad_id))


def _record_failure(ad: Ad, error: GraphAPIError, *, note: str = "", asked: bool = True) -> None:
    """Keep Meta's words on the ad for staff; ``asked=False`` leaves it to the sync's lost-lookup sweep."""
    now = timezone.now()
    fields: dict[str, Any] = {"lookup_error": f"{error}{note}"[:2000], "updated_at": now}
    if asked:
        fields["looked_up_at"] = now
    Ad.objects.filter(pk=ad.pk).update(**fields)


def lookup_ad(ad_id: str, *, client: GraphClient | None = None, attempt: int = 0) -> Outcome:
    """Ask Meta for the ad's name, ad set and campaign and store them.

    The client makes one attempt (``max_retries=0``): waiting belongs to the task's retry
    countdown, not to a sleeping worker. ``attempt`` counts from 0; after LOOKUP_MAX_RETRIES
    retries the error is recorded for good. Unknown ids (Meta code 100) and bad tokens are
    recorded on the ad and not retried.
    """
    ad = Ad.objects.filter(meta_id=ad_id).first()
    if ad is None:
        return Outcome(status="missing")
    try:
        client = client or GraphClient.from_settings(api=Api.MARKETING, max_retries=0)
        info = fetch_ad(ad_id, client=client)
    except GraphNotConfigured as error:
        _record_failure(ad, error, asked=False)  # looked up by the hourly sync once a token is set
        logger.warning("ad %s not looked up: %s", ad_id, error)
        return Outcome(status="not_configured")
    except GraphAPIError as error:
        if error.retryable and attempt < LOOKUP_MAX_RETRIES:
            retry_in = max(lookup_backoff(attempt), int(error.retry_after or 0))
            _record_failure(ad, error, note=f" (attempt {attempt + 1}; retrying in {retry_in}s)")
            logger.info("ad %s lookup failed, retrying in %ss: %s", ad_id, retry_in, error)
            return Outcome(status="retry", retry_in=retry_in)
        _record_failure(ad, error, note=f" (gave up after {attempt + 1} attempts)" if error.retryable else "")
        logger.warning("ad %s lookup failed for good: %s", ad_id, error)
        return Outcome(status="unknown" if error.unknown_object else "failed")

    with transaction.atomic():
        linked = apply_ad_info(info, ad=ad)
    return Outcome(status="found", detail={"leads_linked": linked})


def apply_ad_info(info: AdInfo, *, ad: Ad) -> int:
    """Store a looked-up ad with its ad set and campaign; returns how many leads got the campaign."""
    campaign = save_campaign(info.campaign)[0] if info.campaign else None
    adset = save_adset(info.adset, campaign=campaign)[0] if info.adset else None
    values: dict[str, Any] = _present(
        **fitted(Ad, name=info.name, status=info.status, effective_status=info.effective_status)
    )
    values.update(looked_up_at=timezone.now(), lookup_error="")
    if campaign is not None:
        values["campaign_id"] = campaign.pk
    if adset is not None:
        values["adset_id"] = adset.pk
    ad, _ = _upsert(Ad, meta_id=ad.meta_id, values=values)
    return link_leads(ad)


# --- whole ad accounts -----------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class SyncReport:
    accounts: list[str] = field(default_factory=list)
    campaigns: Counts = field(default_factory=Counts)
    adsets: Counts = field(default_factory=Counts)
    ads: Counts = field(default_factory=Counts)
    skipped_adsets: int = 0
    leads_linked: int = 0
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncProgress:
    """One step of the sync, for a progress display: ``read`` objects so far, ``kept`` of them."""

    account: str
    position: int
    total: int
    stage: str  # "ad sets" or "ads"
    read: int
    kept: int


Progress = Callable[[SyncProgress], None]


def sync_account(
    account_id: str,
    *,
    client: GraphClient,
    report: SyncReport,
    progress: Progress | None = None,
    position: int = 1,
    total: int = 1,
) -> None:
    """Store the account's Click-to-WhatsApp ad sets, their campaigns and their ads."""

    def tell(stage: str, *, read: int, kept: int) -> None:
        if progress is not None:
            step = SyncProgress(
                account=account_id, position=position, total=total, stage=stage, read=read, kept=kept
            )
            progress(step)

    now = timezone.now()
    seen_campaigns: dict[str, Campaign] = {}
    adsets: dict[str, AdSet] = {}
    read = 0
    for page in ad_set_pages(account_id, client=client):
        read += len(page)
        for info in page:
            if not info.is_click_to_whatsapp:
                report.skipped_adsets += 1
                continue
            with transaction.atomic():
                campaign = None
                if info.campaign is not None:
                    campaign = seen_campaigns.get(info.campaign.meta_id)
                    if campaign is None:
                        campaign, outcome = save_campaign(info.campaign, account_id=account_id, now=now)
                        seen_campaigns[info.campaign.meta_id] = campaign
                        report.campaigns.add(outcome)
                adset, outcome = save_adset(info, campaign=campaign, account_id=account_id, now=now)
            adsets[info.meta_id] = adset
            report.adsets.add(outcome)
        tell("ad sets", read=read, kept=len(adsets))

    if not adsets:
        return  # no Click-to-WhatsApp ad set: no ad of this account concerns us
    read = kept = 0
    for ad_page in ad_pages(account_id, client=client):
        read += len(ad_page)
        for ad_info in ad_page:
            ad_adset = adsets.get(ad_info.adset.meta_id) if ad_info.adset else None
            if ad_adset is None:
                continue  # an ad of a non-WhatsApp ad set
            kept += 1
            with transaction.atomic():
                report.leads_linked += _save_synced_ad(
                    ad_info, adset=ad_adset, account_id=account_id, now=now, report=report
                )
        tell("ads", read=read, kept=kept)


def _save_synced_ad(info: AdInfo, *, adset: AdSet, account_id: str, now: datetime, report: SyncReport) -> int:
    values = _present(
        **fitted(
            Ad,
            name=info.name,
            status=info.status,
            effective_status=info.effective_status,
            account_id=account_id,
        )
    )
    values.update(adset_id=adset.pk, synced_at=now)
    if adset.campaign_id is not None:
        values["campaign_id"] = adset.campaign_id
    ad, outcome = _upsert(Ad, meta_id=exact(Ad, "meta_id", info.meta_id, label="ad id"), values=values)
    report.ads.add(outcome)
    return link_leads(ad)


def configured_accounts() -> list[str]:
    raw = app_settings.META_AD_ACCOUNT_IDS
    if isinstance(raw, str):
        raw = raw.split(",")
    return [normalize_account_id(a) for a in raw if str(a).strip()]


def sync_accounts(
    accounts: Iterable[str] | None = None,
    *,
    client: GraphClient | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync the given accounts (default: ``META_AD_ACCOUNT_IDS``); one failing account does not stop the rest.

    Raises ``GraphNotConfigured`` without a token and ``ValueError`` for a malformed account id,
    before any call to Meta.
    """
    wanted = [normalize_account_id(a) for a in accounts] if accounts is not None else configured_accounts()
    client = client or GraphClient.from_settings(api=Api.MARKETING)
    report = SyncReport(accounts=wanted)
    for position, account_id in enumerate(wanted, start=1):
        try:
            sync_account(
                account_id,
                client=client,
                report=report,
                progress=progress,
                position=position,
                total=len(wanted),
            )
        except GraphAPIError as error:
            logger.warning("campaign sync of %s failed: %s", account_id, error)
            report.errors[account_id] = str(error)
    return report


def queue_lost_lookups(*, limit: int = 100) -> int:
    """Queue lookups for ads that never got one (lost publish, token added later); returns how many."""
    cutoff = timezone.now() - LOST_LOOKUP_AFTER
    ids = Ad.objects.filter(looked_up_at__isnull=True, synced_at__isnull=True, created_at__lte=cutoff)
    return sum(schedule_ad_lookup(ad_id) for ad_id in ids.values_list("meta_id", flat=True)[:limit])


def scheduled_sync() -> dict[str, Any]:
    """The beat job: sync every configured account; without a token or accounts, log and do nothing."""
    if not is_configured(Api.MARKETING):
        logger.info("campaign sync skipped: no Meta access token (set META_ACCESS_TOKEN)")
        return {"skipped": "no access token"}
    try:
        accounts = configured_accounts()
    except ValueError as error:
        logger.error("campaign sync skipped: META_AD_ACCOUNT_IDS is wrong: %s", error)
        return {"skipped": str(error)}
    lookups = queue_lost_lookups()
    if not accounts:
        logger.info("campaign sync skipped: no ad accounts (set META_AD_ACCOUNT_IDS)")
        return {"skipped": "no ad accounts", "lookups_queued": lookups}
    report = sync_accounts(accounts)
    summary = {
        "accounts": len(report.accounts),
        "campaigns": str(report.campaigns),
        "adsets": str(report.adsets),
        "ads": str(report.ads),
        "errors": report.errors,
        "lookups_queued": lookups,
    }
    logger.info("campaign sync: %s", summary)
    return summary
