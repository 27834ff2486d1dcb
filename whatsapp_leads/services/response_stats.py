"""How fast people answer: first response times, the share answered within the SLA, breaches and
unanswered leads, for a campaign (and each of its reps) or for one person across campaigns.

Every figure is one database aggregate over columns the engagement services keep on the lead
(``first_response_seconds``, ``first_response_business_seconds``, ``first_reply_at``,
``awaiting_reply_since``, ``sla_due_at``, ``sla_breached_at``) and over ``SlaBreach`` rows, so the
cost is a fixed handful of queries whatever the number of leads: medians and 90th percentiles are
``PERCENTILE_CONT`` in the same ``SELECT`` (``aggregates.PercentileCont``), never Python sorting
fetched rows.

Definitions (the numbers page and the API share them):

- *answered*: leads with a first response time (a person answered; greetings and echoes do not count);
- *median / p90*: of those first response times, wall-clock and business seconds; None without any;
- *within SLA*: answered leads whose first response, in their campaign's clock (``sla_clock``), was
  at most its ``first_response_sla`` and that never breached (each lead is judged by its own
  campaign's SLA, joined in SQL, so a person's figures across campaigns stay one query);
- *judged*: the leads the SLA has decided on: answered ones, and unanswered ones that breached or
  whose due moment has passed. Leads still inside their time are not judged yet, so a morning's
  fresh leads do not lower the share. ``within_sla_share`` = within / judged; None without an SLA or
  without judged leads (never a division by zero);
- *unanswered*: leads awaiting a reply that never had a first answer;
- *breaches*: ``SlaBreach`` rows of level 1 (a breach, not its escalation) applied in the range.

Leads are those created in the page's range (``lead_window``); breaches are counted by when they
were applied. The share uses the campaign's SLA as it is now (a changed SLA re-judges old leads).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg, Case, Count, F, FloatField, Func, IntegerField, Q, QuerySet, When
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import IsNull, LessThanOrEqual
from django.utils import timezone

from ..aggregates import PercentileCont
from ..models import Campaign, Lead, SlaBreach
from .ad_numbers import lead_window
from .routing.hours import business_time_zone

WALL = Campaign.SlaClock.WALL


@dataclass(frozen=True, slots=True)
class ResponseFigures:
    """First-response figures of a set of leads (a campaign, a rep, a person)."""

    leads: int = 0
    answered: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    average_seconds: float | None = None
    median_business_seconds: float | None = None
    p90_business_seconds: float | None = None
    average_business_seconds: float | None = None
    within_sla: int | None = None
    judged: int | None = None
    unanswered: int = 0
    breached_leads: int = 0

    @property
    def within_sla_share(self) -> float | None:
        """Within / judged, 0 to 1; None without an SLA or with nothing judged yet."""
        if self.within_sla is None or not self.judged:
            return None
        return self.within_sla / self.judged


@dataclass(frozen=True, slots=True)
class RepResponse:
    owner_id: int | None
    name: str
    figures: ResponseFigures


@dataclass(frozen=True, slots=True)
class ResponseNumbers:
    sla: timedelta | None
    clock: str
    total: ResponseFigures
    per_rep: list[RepResponse]
    breaches: int
    breaches_per_day: list[tuple[date, int]]


class SlaSeconds(Func):
    """A ``DurationField`` (the campaign's SLA) as seconds: PostgreSQL stores an interval, SQLite
    microseconds; either way the figure compares with the stored response seconds in SQL."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="(%(expressions)s / 1000000.0)", **extra_context)


def _clock_seconds() -> Case:
    """Each lead's first response time in its campaign's clock (business falls back to wall for a
    lead measured before business time was kept)."""
    return Case(
        When(campaign__sla_clock=WALL, then=F("first_response_seconds")),
        default=Coalesce("first_response_business_seconds", "first_response_seconds"),
        output_field=IntegerField(),
    )


def _aggregates(*, now: datetime) -> dict[str, Any]:
    """The figures as aggregates. The SLA is per campaign, joined in SQL, so a person's figures
    across campaigns judge each lead by its own campaign's SLA and still cost one query."""
    answered = Q(first_response_seconds__isnull=False)
    overdue = Q(sla_breached_at__isnull=False) | Q(sla_due_at__lte=now)
    sla_seconds = SlaSeconds("campaign__first_response_sla")
    clock_seconds = _clock_seconds()
    return {
        "leads": Count("pk"),
        "answered": Count("pk", filter=answered),
        "median_seconds": PercentileCont("first_response_seconds", 0.5),
        "p90_seconds": PercentileCont("first_response_seconds", 0.9),
        "average_seconds": Avg("first_response_seconds"),
        "median_business_seconds": PercentileCont("first_response_business_seconds", 0.5),
        "p90_business_seconds": PercentileCont("first_response_business_seconds", 0.9),
        "average_business_seconds": Avg("first_response_business_seconds"),
        "within_sla": Count(
            "pk",
            filter=answered
            & Q(LessThanOrEqual(clock_seconds, sla_seconds))
            & Q(sla_breached_at__isnull=True),
        ),
        "judged": Count(
            "pk",
            filter=Q(campaign__first_response_sla__isnull=False)
            & (Q(IsNull(clock_seconds, False)) | (Q(first_reply_at__isnull=True) & overdue)),
        ),
        "unanswered": Count("pk", filter=Q(awaiting_reply_since__isnull=False, first_reply_at__isnull=True)),
        "breached_leads": Count("pk", filter=Q(sla_breached_at__isnull=False)),
    }


def _figures(row: Any) -> ResponseFigures:
    values: dict[str, Any] = {name: row.get(name) for name in ResponseFigures.__dataclass_fields__}
    return ResponseFigures(**values)


def response_figures(leads: QuerySet[Lead], *, now: datetime | None = None) -> ResponseFigures:
    """The figures of ``leads`` in one query, each lead judged by its own campaign's SLA."""
    return _figures(leads.order_by().aggregate(**_aggregates(now=now or timezone.now())))


def owner_name(first: str | None, last: str | None, username: str | None) -> str:
    full = f"{first or ''} {last or ''}".strip()
    return full or username or "Unassigned"


def per_owner(leads: QuerySet[Lead], *, now: datetime) -> list[RepResponse]:
    """The figures per current owner of ``leads``, most leads first: one ``GROUP BY owner_id`` query
    and one for the owners' names. Grouping by the id alone keeps PostgreSQL's sort narrow (the
    names would widen each of 100 000 sorted rows); the names are a handful of rows."""
    grouped: Any = leads.order_by().values("owner_id")
    rows = list(grouped.annotate(**_aggregates(now=now)).order_by("-leads", "owner_id"))
    ids = [row["owner_id"] for row in rows if row["owner_id"] is not None]
    names = {
        pk: owner_name(first, last, username)
        for pk, first, last, username in get_user_model()
        .objects.filter(pk__in=ids)
        .values_list("pk", "first_name", "last_name", "username")
    }
    reps = [
        RepResponse(
            owner_id=row["owner_id"], name=names.get(row["owner_id"], "Unassigned"), figures=_figures(row)
        )
        for row in rows
    ]
    return sorted(reps, key=lambda r: (-r.figures.leads, r.name))


def breach_window(breaches: QuerySet[SlaBreach], *, since: date | None, until: date | None) -> QuerySet:
    """Breaches applied on the business days ``since``..``until`` (inclusive; None: open-ended)."""
    tz = business_time_zone()
    if since is not None:
        breaches = breaches.filter(breached_at__gte=datetime.combine(since, datetime.min.time(), tzinfo=tz))
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        breaches = breaches.filter(breached_at__lt=end)
    return breaches


def breaches_per_day(breaches: QuerySet[SlaBreach], *, since: date, until: date) -> list[tuple[date, int]]:
    """Breaches per business day from ``since`` to ``until``, days without any at zero (one query)."""
    counted = dict(
        breach_window(breaches, since=since, until=until)
        .order_by()
        .annotate(day=TruncDate("breached_at", tzinfo=business_time_zone()))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    days = (until - since).days + 1
    return [(day, counted.get(day, 0)) for day in (since + timedelta(days=i) for i in range(days))]


def campaign_response(
    campaign: Campaign,
    *,
    since: date | None,
    until: date | None,
    chart_since: date,
    chart_until: date,
    owner: Any = None,
    now: datetime | None = None,
) -> ResponseNumbers:
    """The campaign's response figures over ``since``..``until``, per rep, and breaches per day over
    the chart's days: five queries. ``owner``: only that person's leads and breaches (a rep's view)."""
    now = now or timezone.now()
    leads = lead_window(Lead.objects.filter(campaign=campaign), since=since, until=until)
    breaches = SlaBreach.objects.filter(campaign=campaign, level=1)
    if owner is not None:
        leads = leads.filter(owner=owner)
        breaches = breaches.filter(owner=owner)
    return ResponseNumbers(
        sla=campaign.first_response_sla,
        clock=campaign.sla_clock,
        total=response_figures(leads, now=now),
        per_rep=per_owner(leads, now=now),
        breaches=breach_window(breaches, since=since, until=until).count(),
        breaches_per_day=breaches_per_day(breaches, since=chart_since, until=chart_until),
    )


def median_per_day(
    leads: QuerySet[Lead], *, since: date, until: date
) -> list[tuple[date, float | None, float | None]]:
    """Median first response (wall, business) per business day of the first inbound message (one query)."""
    tz = business_time_zone()
    start = datetime.combine(since, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    rows = {
        row["day"]: (row["wall"], row["business"])
        for row in leads.order_by()
        .filter(first_inbound_at__gte=start, first_inbound_at__lt=end, first_response_seconds__isnull=False)
        .annotate(day=TruncDate("first_inbound_at", tzinfo=tz))
        .values("day")
        .annotate(
            wall=PercentileCont("first_response_seconds", 0.5),
            business=PercentileCont("first_response_business_seconds", 0.5),
        )
    }
    days = (until - since).days + 1
    out = []
    for day in (since + timedelta(days=i) for i in range(days)):
        wall, business = rows.get(day, (None, None))
        out.append((day, wall, business))
    return out


@dataclass(frozen=True, slots=True)
class CampaignResponse:
    campaign_id: int | None
    name: str
    figures: ResponseFigures


def per_campaign(leads: QuerySet[Lead], *, now: datetime) -> list[CampaignResponse]:
    """The figures per campaign of ``leads`` in one ``GROUP BY`` query (a person's own page)."""
    grouped: Any = leads.order_by().values("campaign_id", "campaign__name")
    rows = grouped.annotate(**_aggregates(now=now)).order_by("-leads", "campaign__name")
    return [
        CampaignResponse(
            campaign_id=row["campaign_id"], name=row["campaign__name"] or "No campaign", figures=_figures(row)
        )
        for row in rows
    ]
