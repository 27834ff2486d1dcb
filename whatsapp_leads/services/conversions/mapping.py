"""Which Conversions API events a lead has earned: stages (CONVERSION_EVENTS) -> Meta event names.

A stage is ``lead_created`` (the lead came from an ad) or a lead status. Statuses are a funnel:
a lead marked won has also been qualified and contacted, so a mapped ``qualified`` stage is
reached by a lead that jumps from new to won. ``lost`` is reached only by itself.

Every stage is reached once per lead, except ``won``: each win in the lead's status history is a
sale (``wins``), so its event (``Purchase``) is recorded once per win, under its own ``event_id``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from ...conf import app_settings
from ...graph import Api, is_configured
from ...models import Lead

logger = logging.getLogger(__name__)

LEAD_CREATED = "lead_created"
PURCHASE = "Purchase"
# Meta refuses the plain "Lead" event for business messaging (subcode 2804066): never sent.
REFUSED_NAMES = frozenset({"Lead"})
FUNNEL = (Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED, Lead.Status.WON)


def configured_events() -> dict[str, str]:
    raw = app_settings.CONVERSION_EVENTS
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def allowed(event_name: str) -> bool:
    """Whether the name may be sent: listed in CONVERSION_EVENT_NAMES and not a refused one."""
    return event_name not in REFUSED_NAMES and event_name in set(app_settings.CONVERSION_EVENT_NAMES)


def enabled() -> bool:
    """Conversions are recorded only where they can be sent: a token and at least one mapping."""
    return bool(configured_events()) and is_configured(Api.MARKETING)


def from_ad(lead: Lead) -> bool:
    return bool(lead.source_ad_id or lead.ctwa_clid or lead.referral)


def reached_statuses(status: str) -> list[str]:
    if status in FUNNEL:
        return [str(s) for s in FUNNEL[: FUNNEL.index(status) + 1]]
    return [status]


def due_events(lead: Lead) -> list[tuple[str, str]]:
    """(stage, event name) pairs the lead's current state calls for, allowed names only."""
    mapping = configured_events()
    stages: list[str] = []
    if LEAD_CREATED in mapping and from_ad(lead):
        stages.append(LEAD_CREATED)
    stages += [s for s in reached_statuses(lead.status) if s in mapping]
    due: list[tuple[str, str]] = []
    for stage in stages:
        name = mapping[stage]
        if not allowed(name):
            logger.warning("conversion event %r (stage %s) is not allowed; not recorded", name, stage)
            continue
        if name not in {n for _, n in due}:
            due.append((stage, name))
    return due


def event_time(lead: Lead, *, stage: str, now: datetime | None = None) -> datetime:
    """When the stage was reached: the ad click's message for lead_created, else now."""
    if stage == LEAD_CREATED:
        return lead.first_touch_at or lead.created_at or timezone.now()
    return now or timezone.now()


def event_id(lead: Lead, *, event_name: str, win: int = 1) -> str:
    """Deterministic, so a re-sent row carries the same id (Meta de-duplicates by it, where it does).

    ``win`` numbers the sales of a lead won again after a reopen: the first keeps the plain id
    (rows recorded before wins were counted stay the first win's), the second is ``…-Purchase-2``.
    """
    base = f"lead-{lead.pk}-{event_name}"
    return base if win <= 1 else f"{base}-{win}"


@dataclass(frozen=True, slots=True)
class Win:
    """One time the lead was marked won: its number, when, and the deal then given (None: none given)."""

    number: int
    at: datetime | None
    deal_value: Decimal | None
    deal_currency: str


def wins(lead: Lead) -> list[Win]:
    """Every win of a lead now won, oldest first, from its status history.

    Each change to won in the history is one sale: a lead reopened and won again is a second
    Purchase, while redelivered webhooks, re-processing and saving the same won lead twice add no
    history row and so no event. A won lead without history (a host's code set the status
    directly) has one win.
    """
    if lead.status != Lead.Status.WON:
        return []
    changes = lead.status_changes.filter(new_status=Lead.Status.WON).order_by("created_at", "pk")
    found = [Win(number, change.created_at, change.deal_value, change.deal_currency)
             for number, change in enumerate(changes, start=1)]  # fmt: skip
    return found or [Win(1, None, None, "")]
