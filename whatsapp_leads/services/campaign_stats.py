"""A campaign's numbers: leads per day, by status, per rep, and conversion.

Every figure is an aggregate the database computes (``COUNT ... GROUP BY``), so the cost is a
fixed four queries whether the campaign brought ten leads or a hundred thousand; Python only
fills the days without leads with zeros. Days are the business's days (``BUSINESS_TIME_ZONE``),
so a lead at 00:30 in Pune counts on the day the sales team lived it, not on UTC's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import Campaign, Lead
from .ad_numbers import lead_window
from .response_stats import owner_name
from .routing.hours import business_time_zone, day_bounds

WON = Lead.Status.WON
OPEN = (Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED)


@dataclass(frozen=True, slots=True)
class RepNumbers:
    """One owner's leads from the campaign (``owner_id`` None: unassigned)."""

    owner_id: int | None
    name: str
    leads: int
    open: int
    won: int

    @property
    def conversion(self) -> float | None:
        return self.won / self.leads if self.leads else None


@dataclass(frozen=True, slots=True)
class CampaignNumbers:
    total: int
    won: int
    per_day: list[tuple[date, int]]
    by_status: list[tuple[str, str, int]]
    per_rep: list[RepNumbers]

    @property
    def conversion(self) -> float | None:
        """Won leads over all leads; None when there are no leads (not 0%: nothing to convert)."""
        return self.won / self.total if self.total else None

    @property
    def busiest_day(self) -> int:
        return max((n for _, n in self.per_day), default=0)


def _per_day(leads, *, days: int, now: datetime) -> list[tuple[date, int]]:
    tz = business_time_zone()
    today_start, tomorrow = day_bounds(now, tz=tz)
    first = today_start.date() - timedelta(days=days - 1)
    since = today_start - timedelta(days=days - 1)
    counted = dict(
        leads.filter(created_at__gte=since, created_at__lt=tomorrow)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
        .order_by()
    )
    return [(first + timedelta(days=i), counted.get(first + timedelta(days=i), 0)) for i in range(days)]


def campaign_numbers(
    campaign: Campaign,
    *,
    days: int = 30,
    now: datetime | None = None,
    since: date | None = None,
    until: date | None = None,
    owner: Any = None,
) -> CampaignNumbers:
    """The campaign's numbers at ``now`` (default: the wall clock); leads per day for ``days`` days.

    ``since``/``until`` (business days, inclusive) limit the totals, statuses and reps to the leads
    created in that range; without them every lead counts. ``owner``: count only that person's
    leads (what a rep may see of a campaign they belong to).
    """
    now = now or timezone.now()
    leads = lead_window(Lead.objects.filter(campaign=campaign).order_by(), since=since, until=until)
    if owner is not None:
        leads = leads.filter(owner=owner)
    totals = leads.aggregate(total=Count("pk"), won=Count("pk", filter=Q(status=WON)))
    labels = dict(Lead.Status.choices)
    counted = dict(leads.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    by_status = [(value, labels[value], counted.get(value, 0)) for value in Lead.Status.values]
    reps = (
        leads.values("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(
            n=Count("pk"),
            n_open=Count("pk", filter=Q(status__in=OPEN)),
            n_won=Count("pk", filter=Q(status=WON)),
        )
        .order_by("-n", "owner__username")
    )
    per_rep = [
        RepNumbers(
            owner_id=row["owner_id"],
            name=owner_name(
                row["owner__first_name"] or "", row["owner__last_name"] or "", row["owner__username"]
            ),
            leads=row["n"],
            open=row["n_open"],
            won=row["n_won"],
        )
        for row in reps
    ]
    return CampaignNumbers(
        total=totals["total"],
        won=totals["won"],
        per_day=_per_day(leads, days=days, now=now),
        by_status=by_status,
        per_rep=per_rep,
    )
