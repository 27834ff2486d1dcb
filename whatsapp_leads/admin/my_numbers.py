"""A person's own numbers: ``/admin/whatsapp_leads/inbox/numbers/`` (``admin:whatsapp_leads_my_numbers``).

Their first response times (median, 90th percentile, average; wall-clock and business), the share
answered within the SLA, per campaign, their SLA breaches and their unanswered leads, over a date
range, with a chart of the daily median and the breaches per day.

Row-level rule: a rep sees their own figures only; ``?rep=`` is read only for a manager
(``view_all_leads``), who may pick anyone who owns leads. A breach of a lead since re-assigned to
someone else is listed without the lead's name or link: the rep owned it then, not now. A fixed
number of queries whatever the number of leads (every figure is an aggregate).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ..models import Lead, SlaBreach
from ..permissions import can_see_all_leads
from ..services.ad_numbers import chart_range, lead_window
from ..services.response_stats import (
    breach_window,
    breaches_per_day,
    median_per_day,
    owner_name,
    per_campaign,
    response_figures,
)
from ..services.sla_state import sla_status
from .numbers import DAYS, _day
from .response_charts import minutes, per_day

BREACHES_SHOWN = 100
UNANSWERED_SHOWN = 50


def people_with_leads() -> list[Any]:
    """Whom a manager may pick: everyone who owns at least one lead (one query)."""
    User = get_user_model()
    owns = Lead.objects.filter(owner=OuterRef("pk"))
    return list(User.objects.filter(Exists(owns)).order_by("username"))


def subject_for(request: HttpRequest) -> tuple[Any, list[Any]]:
    """Whose numbers to show, and the people a manager may choose from (empty for a rep)."""
    user = request.user
    if not can_see_all_leads(user):
        return user, []  # a rep's ?rep= is never read: their own figures only
    people = people_with_leads()
    wanted = request.GET.get("rep", "")
    chosen = next((p for p in people if str(p.pk) == wanted), None)
    return chosen or user, people


def my_numbers_view(model_admin: Any, request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    subject, people = subject_for(request)
    since, since_error = _day(request, "since")
    until, until_error = _day(request, "until")
    errors = [e for e in (since_error, until_error) if e]
    if since and until and since > until:
        errors.append("since is after until; the range was ignored.")
        since = until = None
    chart_since, chart_until = chart_range(since=since, until=until, days=DAYS, now=now)
    leads = lead_window(Lead.objects.filter(owner=subject), since=since, until=until)
    breaches = SlaBreach.objects.filter(owner=subject, level=1)
    in_range = breach_window(breaches, since=since, until=until)
    manager = can_see_all_leads(request.user)
    site = model_admin.admin_site.name
    breach_rows = [
        {
            "breach": breach,
            # The lead's name and link only while the viewer may still see the lead.
            "lead_url": reverse(f"{site}:whatsapp_leads_lead_change", args=[breach.lead_id])
            if manager or breach.lead.owner_id == request.user.pk
            else "",
            "lead_name": (breach.lead.name or breach.lead.phone or "(no name)")
            if manager or breach.lead.owner_id == request.user.pk
            else "",
        }
        for breach in in_range.select_related("lead", "campaign", "new_owner")[:BREACHES_SHOWN]
    ]
    unanswered = [
        {
            "lead": lead,
            "url": reverse(f"{site}:whatsapp_leads_lead_change", args=[lead.pk]),
            "sla": sla_status(lead, now=now),
            "waited": now - (lead.awaiting_reply_since or now),
        }
        for lead in Lead.objects.filter(
            owner=subject, awaiting_reply_since__isnull=False, first_reply_at__isnull=True
        )
        .select_related("campaign")
        .order_by("awaiting_reply_since", "pk")[:UNANSWERED_SHOWN]
    ]
    daily = median_per_day(Lead.objects.filter(owner=subject), since=chart_since, until=chart_until)
    figures = response_figures(leads, now=now)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "My numbers"
        if subject.pk == request.user.pk
        else f"Numbers of {owner_name(subject.first_name, subject.last_name, subject.get_username())}",
        "subject": subject,
        "people": people,
        "figures": figures,
        "per_campaign": per_campaign(leads, now=now),
        "breach_count": in_range.count(),
        "breach_rows": breach_rows,
        "unanswered": unanswered,
        "since": since,
        "until": until,
        "range_errors": errors,
        "chart_days": (chart_until - chart_since).days + 1,
        "charts": {
            "daily": {
                "labels": [f"{day:%d %b}" for day, *_ in daily],
                "wall": [minutes(wall) for _, wall, _ in daily],
                "business": [minutes(business) for *_, business in daily],
            },
            "breaches": per_day(breaches_per_day(breaches, since=chart_since, until=chart_until)),
        },
        "inbox_url": reverse(f"{site}:whatsapp_leads_inbox"),
    }
    return TemplateResponse(request, "whatsapp_leads/admin/my_numbers.html", context)
