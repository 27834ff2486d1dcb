"""Who may take a campaign's next lead at a given moment, and who is on duty next.

Eligible: an active member, not paused at that moment, under their daily cap, whose user account
may receive leads (the adapter's ``is_eligible_owner``). Of those, the ones on duty now share the
lead; when none is, ``OFF_HOURS_ROUTING`` decides between the members whose shift starts soonest
and the fallback owner. ``now`` is always passed in, so the rule is the same for a test's clock,
a replayed event and the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import formats

from ...adapter import get_adapter
from ...models import Campaign, CampaignMember, LeadAssignment
from .hours import WorkingHours, day_bounds


def assigned_today(*, now: datetime, tz: tzinfo, campaign: Campaign | OuterRef) -> Coalesce:
    """Per member row: leads this campaign gave the member's user on ``now``'s business day.

    Counted from the assignment log (automatic assignments carry their campaign; a manager's
    re-assignment does not), so a restart or another worker sees the same count.
    """
    start, end = day_bounds(now, tz=tz)
    rows = (
        LeadAssignment.objects.filter(
            owner=OuterRef("user_id"), campaign=campaign, created_at__gte=start, created_at__lt=end
        )
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def available_members(campaign: Campaign, *, now: datetime, tz: tzinfo) -> QuerySet[CampaignMember]:
    """Active, unpaused members under their cap, with ``assigned_today``; working hours not yet applied."""
    return (
        campaign.members.filter(is_active=True)
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .annotate(assigned_today=assigned_today(now=now, tz=tz, campaign=campaign))
        .filter(Q(daily_cap__isnull=True) | Q(assigned_today__lt=F("daily_cap")))
        .select_related("user")
        .order_by("id")
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """An eligible member and the moment they are (or next will be) on duty."""

    member: CampaignMember
    available_at: datetime


@dataclass(frozen=True, slots=True)
class Roster:
    """The eligible members of a campaign at ``now``."""

    now: datetime
    candidates: tuple[Candidate, ...]

    @property
    def on_duty(self) -> list[CampaignMember]:
        return [c.member for c in self.candidates if c.available_at == self.now]

    def next_on_duty(self) -> tuple[datetime, list[CampaignMember]] | None:
        """The soonest shift start among eligible members, and everyone starting then."""
        if not self.candidates:
            return None
        soonest = min(c.available_at for c in self.candidates)
        return soonest, [c.member for c in self.candidates if c.available_at == soonest]


def roster(campaign: Campaign, *, now: datetime, tz: tzinfo) -> Roster:
    """Eligible members in id order; one query (members with their users and today's counts)."""
    adapter = get_adapter()
    candidates = []
    for member in available_members(campaign, now=now, tz=tz):
        if not adapter.is_eligible_owner(member.user):
            continue
        available_at = WorkingHours.of(member).next_on_duty(now, tz=tz)
        if available_at is not None:
            candidates.append(Candidate(member=member, available_at=available_at))
    return Roster(now=now, candidates=tuple(candidates))


def describe(member: CampaignMember, *, now: datetime, tz: tzinfo) -> str:
    """What a manager needs to know about a member right now, in words.

    ``member`` must carry the ``assigned_today`` annotation (see ``assigned_today``).
    """
    if not member.is_active:
        return "Inactive"
    if not get_adapter().is_eligible_owner(member.user):
        return "Cannot take leads (user account disabled)"
    if member.paused_until is not None and member.paused_until > now:
        return f"Paused until {_when(member.paused_until, tz=tz)}"
    done = getattr(member, "assigned_today", 0)
    if member.daily_cap is not None and done >= member.daily_cap:
        return f"Daily cap reached ({done}/{member.daily_cap})"
    next_at = WorkingHours.of(member).next_on_duty(now, tz=tz)
    if next_at is None:
        return "Never on duty (no working day)"
    today = f"{done}/{member.daily_cap} today" if member.daily_cap is not None else f"{done} today"
    if next_at == now:
        return f"On duty ({today})"
    return f"Off duty until {_when(next_at, tz=tz)} ({today})"


def _when(at: datetime, *, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return f"{formats.date_format(local, 'D j M H:i')} {local.tzname()}"
