"""Which Conversions API events a lead has earned: stages (CONVERSION_EVENTS) -> Meta event names.

A stage is ``lead_created`` (the lead came from an ad) or a lead status. Statuses are a funnel:
a lead marked won has also been qualified and contacted, so a mapped ``qualified`` stage is
reached by a lead that jumps from new to won. ``lost`` is reached only by itself.
"""

from __future__ import annotations

import logging
from datetime import datetime

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


def event_id(lead: Lead, *, event_name: str) -> str:
    """Deterministic, so a re-sent row carries the same id (Meta de-duplicates by it, where it does)."""
    return f"lead-{lead.pk}-{event_name}"
