"""The lead page's engagement card: how fast we answered this person, how much each side spoke,
and where the lead stands against its campaign's first-response SLA, with its breaches.

Everything but the breaches is a field of the lead (kept by the engagement services as messages
are stored), so the card costs one query: the lead's ``SlaBreach`` rows, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..models import Lead, SlaBreach
from ..services.sla_state import SlaStatus, sla_status

BREACHES_SHOWN = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class EngagementCard:
    lead: Lead
    sla: SlaStatus
    sla_duration: Any
    sla_clock: str
    breaches: list[SlaBreach]


def engagement_card(lead: Lead, *, now: datetime) -> EngagementCard:
    campaign = lead.campaign
    return EngagementCard(
        lead=lead,
        sla=sla_status(lead, now=now),
        sla_duration=campaign.first_response_sla if campaign is not None else None,
        sla_clock=campaign.get_sla_clock_display() if campaign is not None else "",
        breaches=list(lead.sla_breaches.select_related("owner", "new_owner")[:BREACHES_SHOWN]),
    )
