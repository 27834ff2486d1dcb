"""When a lead's first answer is due under its campaign's first-response SLA.

The clock starts at the lead's first inbound message for its first owner, and at the moment of
an automatic re-assignment for each later owner (a fresh SLA: the new owner did not see the lead
before). ``Campaign.sla_clock`` decides how the SLA is counted: ``wall`` adds the duration to the
start; ``business`` adds it over the owner's shifts (``routing.business_clock``), so a ten-minute
SLA on a message sent at 23:00 falls due ten minutes into the next shift.

Nothing is due once a person answered (``first_response_seconds`` is set), once a person moved the
lead past ``new`` (they called, say), or once a person re-assigned it (``assigned_by`` set: a
manager's decision is not second-guessed by a timer). Each function sets the lead's fields in
memory and returns their names for the caller's ``save(update_fields=...)``: the callers hold the
lead's row lock and save the lead once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...models import Campaign, Lead
from ..routing.business_clock import clock_for

_SLA_FIELDS = ("sla_started_at", "sla_due_at")


def campaign_sla(lead: Lead) -> Campaign | None:
    """The lead's campaign when it has a first-response SLA, else None."""
    if lead.campaign_id is None:
        return None
    campaign = lead.campaign
    if campaign is None or not campaign.first_response_sla or campaign.first_response_sla <= timedelta(0):
        return None
    return campaign


def due_after(campaign: Campaign, *, start: datetime, owner_id: Any) -> datetime:
    """``start`` plus the campaign's SLA, counted by its ``sla_clock`` for this owner."""
    sla = campaign.first_response_sla or timedelta(0)
    if campaign.sla_clock == Campaign.SlaClock.WALL:
        return start + sla
    return clock_for(campaign_id=campaign.pk, owner_id=owner_id).add(start, sla)


def _set(lead: Lead, started: datetime | None, due: datetime | None) -> list[str]:
    changed = []
    for name, value in zip(_SLA_FIELDS, (started, due), strict=True):
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.append(name)
    return changed


def awaits_first_answer(lead: Lead) -> bool:
    """The person wrote, nobody answered yet, and nobody moved the lead on."""
    return (
        lead.first_inbound_at is not None
        and lead.first_response_seconds is None
        and lead.status == Lead.Status.NEW
        and lead.erased_at is None
    )


def start(lead: Lead, *, at: datetime) -> list[str]:
    """Start the SLA clock for the lead's current owner at ``at`` (cleared when none applies)."""
    campaign = campaign_sla(lead)
    if campaign is None or not awaits_first_answer(lead):
        return clear(lead)
    return _set(lead, at, due_after(campaign, start=at, owner_id=lead.owner_id))


def clear(lead: Lead) -> list[str]:
    """No SLA applies any more; ``sla_breached_at`` and the breach rows stay as history."""
    return _set(lead, None, None)


def on_assigned(lead: Lead, *, by: Any, at: datetime) -> list[str]:
    """A new owner: a person's choice clears the SLA; an automatic one starts a fresh clock.

    The first owner's clock starts at the first inbound message (the person has waited since
    then, however late we processed it); a later owner's at the re-assignment.
    """
    if by is not None:
        return clear(lead)
    if lead.sla_started_at is None and lead.first_inbound_at is not None:
        return start(lead, at=lead.first_inbound_at)
    return start(lead, at=at)


def on_first_inbound(lead: Lead) -> list[str]:
    """The person's first message, on a lead that already has an owner (we wrote first, say).

    A brand-new lead has no owner yet at this point: its clock starts when it is assigned.
    """
    if lead.owner_id is None or lead.sla_started_at is not None or lead.first_inbound_at is None:
        return []
    return start(lead, at=lead.first_inbound_at)


def on_answered(lead: Lead) -> list[str]:
    """A person's first answer: nothing is due any more."""
    if lead.sla_due_at is None or lead.first_response_seconds is None:
        return []
    lead.sla_due_at = None
    return ["sla_due_at"]


def describe(duration: timedelta) -> str:
    """``10 min``, ``1 h 30 min``, ``2 days``, ``45 s``: an SLA in the words a manager uses."""
    seconds = max(int(duration.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = []
    if days:
        parts.append(f"{days} day" if days == 1 else f"{days} days")
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if seconds or not parts:
        parts.append(f"{seconds} s")
    return " ".join(parts)
