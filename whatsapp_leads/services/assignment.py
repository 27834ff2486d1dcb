"""Choosing a lead's owner by its campaign's rule, and recording every change of owner.

The campaign row is locked (``SELECT ... FOR UPDATE``) while choosing, so workers in other
processes or on other machines take turns: the round-robin cursor, the weighted state, today's
counts against a daily cap and the open-lead counts are all read and written by one transaction
at a time, and no two leads are handed the same turn.

Order of decision for a lead with an active campaign:
1. ``fixed``: the fixed owner.
2. Otherwise the campaign's eligible members (``routing.eligibility``): those on duty share the
   lead by the campaign's strategy (``routing.strategies``).
3. Nobody eligible on duty: the members whose shift starts soonest (``OFF_HOURS_ROUTING =
   "next_on_duty"``, the default) or the fallback owner (``"fallback"``).
4. No eligible member at all: the fallback owner, else ``WHATSAPP_DEFAULT_OWNER``, else nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django.db import transaction
from django.utils import formats, timezone

from ..adapter import get_adapter
from ..conf import app_settings
from ..models import Campaign, CampaignMember, Lead, LeadAssignment
from ..signals import lead_assigned
from .fitting import fit
from .routing import eligibility, strategies
from .routing.hours import business_time_zone
from .rows import build
from .sla import deadline

NEXT_ON_DUTY = "next_on_duty"
FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Decision:
    """Who gets the lead, the campaign whose rule decided (None: no rule applied), and why."""

    owner: Any | None
    campaign: Campaign | None
    reason: str
    member: CampaignMember | None = None  # the member a strategy picked (their daily count grows)


def _default(campaign: Campaign | None, why: str) -> Decision:
    return Decision(get_adapter().default_owner(), campaign, f"{why}: default owner")


def _fallback(campaign: Campaign, why: str) -> Decision:
    """The campaign's fallback owner; a deactivated one (someone who left) collects nothing."""
    fallback = campaign.fallback_owner
    if fallback is not None and get_adapter().is_eligible_owner(fallback):
        return Decision(fallback, campaign, f"{why}: fallback owner")
    return _default(campaign, f"{why}, nor a fallback owner")


def _to_member(
    campaign: Campaign, members: list[CampaignMember], *, prefix: str = "", save: bool = True
) -> Decision:
    """Pick among ``members`` by the campaign's strategy and move the campaign's cursor.

    ``save=False``: the cursor moves in memory only; the caller saves it once for its run of leads.
    """
    pick = strategies.pick(campaign, members)
    campaign.last_assigned_member = pick.member
    if save:
        campaign.save(update_fields=["last_assigned_member", "updated_at"])
    label = campaign.get_routing_strategy_display()
    detail = f" ({pick.detail})" if pick.detail else ""
    return Decision(
        pick.member.user, campaign, f"{prefix}{label} in campaign '{campaign}'{detail}", pick.member
    )


def _off_hours(campaign: Campaign, roster: eligibility.Roster, *, tz: tzinfo, save: bool = True) -> Decision:
    nobody = f"Nobody on duty in campaign '{campaign}'"
    upcoming = roster.next_on_duty()
    if app_settings.OFF_HOURS_ROUTING == FALLBACK or upcoming is None:
        return _fallback(campaign, nobody)
    starts, members = upcoming
    local = starts.astimezone(tz)
    when = f"{formats.date_format(local, 'D j M H:i')} {local.tzname()}"
    return _to_member(campaign, members, prefix=f"{nobody}; next on duty at {when}. ", save=save)


def locked_campaign(campaign_id: int) -> Campaign:
    """The campaign row, locked until the transaction ends, with the owners its rule may name."""
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("fixed_owner", "fallback_owner")
        .get(pk=campaign_id)
    )


def choose_owner(lead: Lead, *, now: datetime | None = None) -> Decision:
    """The owner ``lead.campaign``'s rule gives at ``now``. Call inside a transaction: it locks."""
    if lead.campaign_id is None:
        return without_campaign()
    return decide(locked_campaign(lead.campaign_id), now=now or timezone.now())


def without_campaign() -> Decision:
    """A lead no campaign claims goes to the default owner (``WHATSAPP_DEFAULT_OWNER``), if any."""
    return _default(None, "No campaign")


def decide(
    campaign: Campaign, *, now: datetime, roster: eligibility.Roster | None = None, save: bool = True
) -> Decision:
    """The owner the (locked) ``campaign``'s rule gives at ``now``.

    ``roster``: its eligible members at ``now`` when the caller already has them (a run of leads
    of one campaign reads them once and counts its own picks); ``save=False`` leaves the cursor
    to the caller's single save.
    """
    if not campaign.is_active:
        return _default(campaign, f"Campaign '{campaign}' is inactive")
    if campaign.routing_strategy == Campaign.Strategy.FIXED:
        owner = campaign.fixed_owner
        if owner is not None and get_adapter().is_eligible_owner(owner):
            return Decision(owner, campaign, f"Fixed owner of campaign '{campaign}'")
        return _fallback(campaign, f"Campaign '{campaign}' has no fixed owner who can take leads")

    tz = business_time_zone()
    if roster is None:
        roster = eligibility.roster(campaign, now=now, tz=tz)
    on_duty = roster.on_duty
    if on_duty:
        return _to_member(campaign, on_duty, save=save)
    if roster.candidates:
        return _off_hours(campaign, roster, tz=tz, save=save)
    if not campaign.members.exists():  # made automatically for a new ad, say: nobody added yet
        return _fallback(campaign, f"Campaign '{campaign}' has no members yet")
    return _fallback(
        campaign, f"Campaign '{campaign}' has no active member free to take it (paused or at the daily cap)"
    )


def assign(
    lead: Lead,
    *,
    owner: Any | None,
    reason: str,
    campaign: Campaign | None = None,
    by: Any = None,
    at: datetime | None = None,
    pending: list[str] | None = None,
) -> LeadAssignment:
    """Set the owner, record who, when and why, and announce it after commit.

    Also (re)starts the first-response SLA for the new owner, or clears it when a person (``by``)
    made the choice (``sla.deadline.on_assigned``). With ``pending`` the lead's changed fields
    are added to it instead of saved: the caller, holding the lead's lock, saves them with its
    own changes in one UPDATE before the transaction commits.
    """
    record = assignment_row(lead, owner=owner, reason=reason, campaign=campaign, by=by, at=at)
    sla_fields = deadline.on_assigned(lead, by=by, at=at or timezone.now())
    if pending is not None:
        pending += ["owner", *sla_fields]
    else:
        lead.save(update_fields=["owner", "updated_at", *sla_fields])
    record.save()
    transaction.on_commit(announce(record, reason=reason))
    return record


def assignment_row(
    lead: Lead,
    *,
    owner: Any | None,
    reason: str,
    campaign: Campaign | None = None,
    by: Any = None,
    at: datetime | None = None,
) -> LeadAssignment:
    """Set the owner on ``lead`` (in memory) and return the unsaved log row of the change."""
    previous = lead.owner
    lead.owner = owner
    return build(  # LeadAssignment(...) for a fraction of its cost (``rows``)
        LeadAssignment,
        lead=lead,
        owner=owner,
        previous_owner=previous,
        campaign=campaign,
        reason=fit(LeadAssignment, "reason", reason),
        assigned_by=by,
        created_at=at or timezone.now(),
    )


def announce(record: LeadAssignment, *, reason: str) -> Callable[[], None]:
    """``lead_assigned`` for ``record``, to run after commit (the reason as chosen, before fitting)."""
    lead, owner, previous = record.lead, record.owner, record.previous_owner

    def send() -> None:
        lead_assigned.send(sender=Lead, lead=lead, owner=owner, previous_owner=previous, reason=reason)

    return send


def assign_new_lead(
    lead: Lead, *, reason_prefix: str = "", now: datetime | None = None, pending: list[str] | None = None
) -> Any | None:
    """Route a lead by its campaign's rule at ``now`` (default: the wall clock); returns the owner.

    ``pending``: as for ``assign``, the lead's changed fields are left to the caller's save.
    """
    now = now or timezone.now()
    decision = choose_owner(lead, now=now)
    if decision.campaign is not None and decision.campaign.pk == lead.campaign_id:
        # The row just read (and locked): the SLA clock that ``assign`` starts needs it, not a re-read.
        lead.campaign = decision.campaign
    assign(
        lead,
        owner=decision.owner,
        reason=f"{reason_prefix}{decision.reason}",
        campaign=decision.campaign,
        at=now,
        pending=pending,
    )
    return decision.owner


def choose_other_owner(lead: Lead, *, now: datetime) -> Decision | None:
    """The next owner by the campaign's rule, never the current one; None when nobody else can.

    For a lead nobody answered in time (the SLA's re-assignment): members on duty other than the
    owner share it by the campaign's strategy (a fixed-owner campaign goes round its members);
    when none is on duty, those next on duty; else the fallback owner, when that is someone
    else. Call inside a transaction: the campaign row is locked.
    """
    if lead.campaign_id is None:
        return None
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("fallback_owner")
        .get(pk=lead.campaign_id)
    )
    if not campaign.is_active:
        return None
    tz = business_time_zone()
    roster = eligibility.roster(campaign, now=now, tz=tz)
    others = eligibility.Roster(
        now=now, candidates=tuple(c for c in roster.candidates if c.member.user_id != lead.owner_id)
    )
    if others.on_duty and campaign.routing_strategy == Campaign.Strategy.FIXED:
        pick = strategies.round_robin(campaign, others.on_duty)
        campaign.last_assigned_member = pick.member
        campaign.save(update_fields=["last_assigned_member", "updated_at"])
        return Decision(pick.member.user, campaign, f"Round robin among the members of campaign '{campaign}'")
    if others.on_duty:
        return _to_member(campaign, others.on_duty)
    upcoming = others.next_on_duty()
    if upcoming is not None:
        local = upcoming[0].astimezone(tz)
        when = f"{formats.date_format(local, 'D j M H:i')} {local.tzname()}"
        return _to_member(campaign, upcoming[1], prefix=f"Nobody else on duty; next on duty at {when}. ")
    fallback = campaign.fallback_owner
    if fallback is not None and fallback.pk != lead.owner_id and get_adapter().is_eligible_owner(fallback):
        return Decision(fallback, campaign, f"No other member free in campaign '{campaign}': fallback owner")
    return None


def reassign(lead: Lead, *, owner: Any | None, by: Any) -> LeadAssignment:
    """A manager hands the lead to someone else: recorded with who did it; counts against no cap."""
    who = by.get_username() if hasattr(by, "get_username") else str(by)
    return assign(lead, owner=owner, reason=f"Re-assigned by {who}", by=by)
