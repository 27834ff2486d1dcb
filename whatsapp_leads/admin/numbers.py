"""The campaign numbers page: leads per day, by status, per rep, and conversion; spend, cost per lead,
cost per won lead, revenue and ROAS per ad over a chosen range, a chart of spend against leads per
day, and leads by country and city.

Linked from the campaign's change page ("Numbers"). The figures come from
``services.campaign_stats`` (database aggregates); this module only turns them into rows a
template can draw, so the page costs the same handful of queries for ten leads or 100 000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from ..models import Campaign
from ..permissions import sees_every_campaign
from ..services.ad_numbers import AdNumbers, ad_numbers, chart_range
from ..services.campaign_stats import CampaignNumbers, campaign_numbers
from ..services.outbound.entry_points import free_entry_points
from ..services.response_stats import campaign_response
from ..services.routing.hours import business_time_zone
from .response_charts import response_charts

DAYS = 30


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _rows(numbers: CampaignNumbers) -> dict[str, Any]:
    """Bars scaled to the largest value, so the busiest day (or status, or rep) is full width."""
    busiest = numbers.busiest_day or 1
    biggest_status = max((n for *_, n in numbers.by_status), default=0) or 1
    return {
        "per_day": [
            {"day": day, "leads": n, "width": round(100 * n / busiest)}
            for day, n in reversed(numbers.per_day)
        ],
        "by_status": [
            {
                "status": label,
                "leads": n,
                "share": percent(n / numbers.total if numbers.total else None),
                "width": round(100 * n / biggest_status),
            }
            for _, label, n in numbers.by_status
        ],
        "per_rep": [
            {
                "name": r.name,
                "leads": r.leads,
                "open": r.open,
                "won": r.won,
                "conversion": percent(r.conversion),
            }
            for r in numbers.per_rep
        ],
    }


# --- ad loop: the date range, money figures and the spend/leads chart ----------------------------------
def _day(request: HttpRequest, name: str) -> tuple[date | None, str]:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None, ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return None, f"{name}: {raw!r} is not a date (YYYY-MM-DD); ignored."


def money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _money_rows(numbers: AdNumbers) -> dict[str, Any]:
    def row(f: Any) -> dict[str, Any]:
        return {
            "name": f.name, "meta_id": f.meta_id, "spend": money(f.spend), "leads": f.leads,
            "cost_per_lead": money(f.cost_per_lead), "qualified": f.qualified, "won": f.won,
            "cost_per_won": money(f.cost_per_won), "revenue": money(f.revenue),
            "roas": "-" if f.roas is None else f"{f.roas:.2f}",
        }  # fmt: skip

    top = max((n for _, n in numbers.by_country), default=0) or 1
    return {
        "money": row(numbers.total),
        "per_ad": [row(f) for f in numbers.per_ad],
        "by_country": [
            {"country": c or "Unknown", "leads": n, "width": round(100 * n / top)}
            for c, n in numbers.by_country
        ],
        "by_city": [{"country": c or "-", "city": city, "leads": n} for c, city, n in numbers.by_city],
    }


# --- end ad loop ----------------------------------------------------------------------------------------


def numbers_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """GET only; whoever may view the campaign may see its numbers."""
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    campaign: Campaign | None = model_admin.get_object(request, object_id)
    if campaign is None:
        raise Http404("No such campaign.")
    if not model_admin.has_view_or_change_permission(request, campaign):
        raise PermissionDenied
    since, since_error = _day(request, "since")
    until, until_error = _day(request, "until")
    errors = [e for e in (since_error, until_error) if e]
    if since and until and since > until:
        errors.append("since is after until; the range was ignored.")
        since = until = None
    now = timezone.now()
    # A rep (sees only own leads) sees a campaign they belong to through their own leads only.
    only = None if sees_every_campaign(request.user) else request.user
    numbers = campaign_numbers(campaign, days=DAYS, now=now, since=since, until=until, owner=only)
    chart_since, chart_until = chart_range(since=since, until=until, days=DAYS, now=now)
    spend = ad_numbers(campaign, since=since, until=until, chart_since=chart_since, chart_until=chart_until)
    response = campaign_response(
        campaign,
        since=since,
        until=until,
        chart_since=chart_since,
        chart_until=chart_until,
        owner=only,
        now=now,
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Campaign._meta,
        "original": campaign,
        "title": f"Numbers of {campaign}",
        "subtitle": None,
        "numbers": numbers,
        "conversion": percent(numbers.conversion),
        "days": DAYS,
        "time_zone": str(business_time_zone()),
        "entry_points": free_entry_points(campaign, now=timezone.now(), owner=only),
        "only_own": only is not None,
        **_rows(numbers),
        "since": since,
        "until": until,
        "range_errors": errors,
        "spend": spend,
        **_money_rows(spend),
        "response": response,
        "response_charts": response_charts(response),
    }
    return TemplateResponse(request, "whatsapp_leads/admin/campaign/numbers.html", context)
