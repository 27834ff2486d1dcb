"""What a campaign's ads cost and brought: spend, leads, cost per lead, won, revenue and ROAS.

Per campaign and per ad over a date range (the business's days, ``BUSINESS_TIME_ZONE``; spend
days are the ad account's, which Meta reports). Every figure is a database aggregate, so the cost
is a fixed five queries whatever the volume. A ratio whose divisor is zero is None ("undefined":
no leads means no cost per lead), never a division by zero; spending nothing on leads that came
is a cost of 0.

Revenue is the sum of won leads' deal values; ROAS is revenue / spend. Both assume deals are in
the ad account's currency (``currency``; "mixed" when the range spans accounts in several).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from ..models import AdSpend, Campaign, Lead
from .routing.hours import business_time_zone

ZERO = Decimal("0")
CENT = Decimal("0.01")
QUALIFIED = (Lead.Status.QUALIFIED, Lead.Status.WON)


def _per(amount: Decimal, count: int | Decimal) -> Decimal | None:
    return (amount / Decimal(count)).quantize(CENT, ROUND_HALF_UP) if count else None


@dataclass
class Figures:
    """One row of numbers: a whole campaign, or one of its ads (``meta_id`` "" for leads without an ad)."""

    ad_id: int | None = None
    meta_id: str = ""
    name: str = ""
    spend: Decimal = ZERO
    leads: int = 0
    qualified: int = 0
    won: int = 0
    revenue: Decimal = ZERO
    impressions: int = 0
    clicks: int = 0
    conversations: int = 0

    @property
    def cost_per_lead(self) -> Decimal | None:
        return _per(self.spend, self.leads)

    @property
    def cost_per_won(self) -> Decimal | None:
        return _per(self.spend, self.won)

    @property
    def roas(self) -> Decimal | None:
        """Revenue per unit of spend (2.5 = 2.5 rupees back per rupee spent); None without spend."""
        return (self.revenue / self.spend).quantize(Decimal("0.0001"), ROUND_HALF_UP) if self.spend else None

    def add(self, other: Figures) -> None:
        for name in (
            "spend",
            "leads",
            "qualified",
            "won",
            "revenue",
            "impressions",
            "clicks",
            "conversations",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class AdNumbers:
    since: date | None
    until: date | None
    currency: str
    total: Figures
    per_ad: list[Figures]
    per_day: list[tuple[date, Decimal, int]]  # day, spend, leads
    by_country: list[tuple[str, int]]
    by_city: list[tuple[str, str, int]]  # country, city, leads
    chart_days: int = field(default=0)


def chart_range(*, since: date | None, until: date | None, days: int, now: datetime) -> tuple[date, date]:
    """The per-day chart's days: the range when it has both ends (at most 366 days), else the last ``days``."""
    today = now.astimezone(business_time_zone()).date()
    last = until or today
    first = since if since is not None else last - timedelta(days=days - 1)
    return max(first, last - timedelta(days=365)), last


def lead_window(leads: QuerySet[Lead], *, since: date | None, until: date | None) -> QuerySet[Lead]:
    """Leads created on the business days ``since``..``until`` (inclusive; None: open-ended)."""
    tz = business_time_zone()
    if since is not None:
        leads = leads.filter(created_at__gte=datetime.combine(since, datetime.min.time(), tzinfo=tz))
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        leads = leads.filter(created_at__lt=end)
    return leads


def _spend_window(rows: QuerySet[AdSpend], *, since: date | None, until: date | None) -> QuerySet[AdSpend]:
    if since is not None:
        rows = rows.filter(date__gte=since)
    if until is not None:
        rows = rows.filter(date__lte=until)
    return rows


def ad_numbers(
    campaign: Campaign, *, since: date | None, until: date | None, chart_since: date, chart_until: date
) -> AdNumbers:
    """The campaign's money figures over ``since``..``until``; the per-day series over the chart's range."""
    spend = _spend_window(AdSpend.objects.filter(campaign=campaign).order_by(), since=since, until=until)
    leads = lead_window(Lead.objects.filter(campaign=campaign).order_by(), since=since, until=until)
    rows: dict[str, Figures] = {}

    currencies: set[str] = set()
    for row in spend.values("ad_meta_id", "currency", "ad_id", "ad__name", "ad__headline").annotate(
        s=Sum("spend"), i=Sum("impressions"), c=Sum("clicks"), v=Sum("conversations")
    ):
        figures = rows.setdefault(row["ad_meta_id"], Figures(meta_id=row["ad_meta_id"]))
        figures.add(
            Figures(
                spend=row["s"] or ZERO,
                impressions=row["i"] or 0,
                clicks=row["c"] or 0,
                conversations=row["v"] or 0,
            )
        )
        figures.ad_id, figures.name = row["ad_id"], row["ad__name"] or row["ad__headline"] or ""
        currencies.add(row["currency"])

    for came in leads.values("ad_id", "ad__meta_id", "ad__name", "ad__headline").annotate(
        n=Count("pk"),
        q=Count("pk", filter=Q(status__in=QUALIFIED)),
        w=Count("pk", filter=Q(status=Lead.Status.WON)),
        r=Coalesce(Sum("deal_value", filter=Q(status=Lead.Status.WON)), ZERO),
    ):
        meta_id = came["ad__meta_id"] or ""
        figures = rows.setdefault(meta_id, Figures(meta_id=meta_id))
        figures.add(Figures(leads=came["n"], qualified=came["q"], won=came["w"], revenue=came["r"]))
        figures.ad_id = figures.ad_id or came["ad_id"]
        figures.name = figures.name or came["ad__name"] or came["ad__headline"] or ""

    total = Figures(name=campaign.name)
    for meta_id, figures in rows.items():
        figures.name = figures.name or meta_id or "No ad (organic or keyword)"
        total.add(figures)
    currencies.discard("")
    places = list(leads.values("country", "city").annotate(n=Count("pk")).order_by())
    countries: dict[str, int] = {}
    for place in places:
        countries[place["country"]] = countries.get(place["country"], 0) + place["n"]
    cities = sorted(
        ((p["country"], p["city"], p["n"]) for p in places if p["city"]), key=lambda c: (-c[2], c[1], c[0])
    )
    per_ad = sorted(rows.values(), key=lambda f: (-f.spend, -f.leads, f.meta_id))

    return AdNumbers(
        since=since,
        until=until,
        currency=next(iter(currencies)) if len(currencies) == 1 else ("mixed" if currencies else ""),
        total=total,
        per_ad=per_ad,
        per_day=_per_day(campaign, since=chart_since, until=chart_until),
        by_country=sorted(countries.items(), key=lambda c: (-c[1], c[0])),
        by_city=cities[:50],
        chart_days=(chart_until - chart_since).days + 1,
    )


def _per_day(campaign: Campaign, *, since: date, until: date) -> list[tuple[date, Decimal, int]]:
    spent = dict(
        _spend_window(AdSpend.objects.filter(campaign=campaign).order_by(), since=since, until=until)
        .values("date")
        .annotate(s=Sum("spend"))
        .values_list("date", "s")
    )
    came = dict(
        lead_window(Lead.objects.filter(campaign=campaign).order_by(), since=since, until=until)
        .annotate(day=TruncDate("created_at", tzinfo=business_time_zone()))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    days = (until - since).days + 1
    return [
        (day, spent.get(day) or ZERO, came.get(day, 0))
        for day in (since + timedelta(days=i) for i in range(days))
    ]
