"""Marketing API reads: one ad by id, and an ad account's ad sets and ads.

Like ``parsing/``, this module is a boundary: Meta's field names stop here and callers get
frozen dataclasses. Missing or odd values become empty strings, never exceptions, because a
half-filled ad is still worth storing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .client import GraphClient

# Graph field expansion: the ad's name plus its ad set's and campaign's ids and names, in one call.
AD_LOOKUP_FIELDS = "name,adset{id,name},campaign{id,name}"
ADSET_FIELDS = "id,name,destination_type,status,effective_status,campaign{id,name,objective,status}"
AD_FIELDS = "id,name,adset_id,campaign_id,status,effective_status"
PAGE_SIZE = 100
WHATSAPP_DESTINATION = "WHATSAPP"
_ACCOUNT = re.compile(r"^(?:act_)?(\d+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignInfo:
    meta_id: str
    name: str = ""
    objective: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AdSetInfo:
    meta_id: str
    name: str = ""
    destination_type: str = ""
    status: str = ""
    effective_status: str = ""
    campaign: CampaignInfo | None = None

    @property
    def is_click_to_whatsapp(self) -> bool:
        """Click-to-WhatsApp is a property of the ad set, not the campaign."""
        return self.destination_type.upper() == WHATSAPP_DESTINATION


@dataclass(frozen=True, slots=True, kw_only=True)
class AdInfo:
    meta_id: str
    name: str = ""
    status: str = ""
    effective_status: str = ""
    adset: AdSetInfo | None = None
    campaign: CampaignInfo | None = None


def normalize_account_id(account_id: str) -> str:
    """``"123"`` or ``"act_123"`` -> ``"act_123"``; ValueError for anything else."""
    match = _ACCOUNT.match(str(account_id).strip())
    if not match:
        raise ValueError(f"{account_id!r} is not an ad account id (expected act_<digits>)")
    return f"act_{match.group(1)}"


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _campaign(raw: Any, *, fallback_id: Any = None) -> CampaignInfo | None:
    if isinstance(raw, dict) and raw.get("id"):
        return CampaignInfo(
            meta_id=_s(raw["id"]),
            name=_s(raw.get("name")),
            objective=_s(raw.get("objective")),
            status=_s(raw.get("status")),
        )
    return CampaignInfo(meta_id=_s(fallback_id)) if fallback_id else None


def _adset(raw: dict[str, Any]) -> AdSetInfo:
    return AdSetInfo(
        meta_id=_s(raw.get("id")),
        name=_s(raw.get("name")),
        destination_type=_s(raw.get("destination_type")),
        status=_s(raw.get("status")),
        effective_status=_s(raw.get("effective_status")),
        campaign=_campaign(raw.get("campaign"), fallback_id=raw.get("campaign_id")),
    )


def _ad(raw: dict[str, Any], *, ad_id: str = "") -> AdInfo:
    adset = raw.get("adset")
    if isinstance(adset, dict) and adset.get("id"):
        adset_info: AdSetInfo | None = AdSetInfo(meta_id=_s(adset["id"]), name=_s(adset.get("name")))
    elif raw.get("adset_id"):
        adset_info = AdSetInfo(meta_id=_s(raw["adset_id"]))
    else:
        adset_info = None
    return AdInfo(
        meta_id=_s(raw.get("id")) or ad_id,
        name=_s(raw.get("name")),
        status=_s(raw.get("status")),
        effective_status=_s(raw.get("effective_status")),
        adset=adset_info,
        campaign=_campaign(raw.get("campaign"), fallback_id=raw.get("campaign_id")),
    )


def fetch_ad(ad_id: str, *, client: GraphClient) -> AdInfo:
    """One ad with its ad set and campaign (``GET /{ad_id}?fields=name,adset{id,name},campaign{id,name}``)."""
    return _ad(client.get(ad_id, params={"fields": AD_LOOKUP_FIELDS}), ad_id=ad_id)


def ad_set_pages(account_id: str, *, client: GraphClient) -> Iterator[list[AdSetInfo]]:
    """Every ad set of the account, a page at a time; the caller keeps the Click-to-WhatsApp ones.

    Meta documents no server-side filter on ``destination_type``, so filtering is ours.
    """
    path = f"{normalize_account_id(account_id)}/adsets"
    for page in client.paginate(path, params={"fields": ADSET_FIELDS, "limit": PAGE_SIZE}):
        yield [_adset(raw) for raw in page if raw.get("id")]


def ad_pages(account_id: str, *, client: GraphClient) -> Iterator[list[AdInfo]]:
    """Every ad of the account, a page at a time, with its ad set and campaign ids."""
    path = f"{normalize_account_id(account_id)}/ads"
    for page in client.paginate(path, params={"fields": AD_FIELDS, "limit": PAGE_SIZE}):
        yield [_ad(raw) for raw in page if raw.get("id")]
