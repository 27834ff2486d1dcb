"""The rep's inbox: ``/admin/whatsapp_leads/inbox/`` (URL name ``admin:whatsapp_leads_inbox``).

Open leads with whoever is waiting for an answer first, longest wait first, then the rest by their
latest message. A lead that writes again is awaiting a reply, so it comes back to the top whatever
its status. The rows fragment (``inbox/rows/``) is polled by htmx every few seconds, so new leads
and messages appear without a reload; it also carries the unread total for the tab title.

Everything sorted or shown is denormalised on the lead (``services/lead_activity``), so each page is
a fixed number of queries whatever the number of leads or messages. Row-level rule: a rep's scope
is their own leads, always; Unassigned and All exist only for managers (``permissions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from ..models import Campaign, CampaignMember, Inbox, Lead
from ..permissions import can_see_all_leads, visible_leads
from ..services.sla_state import NO_SLA, SlaStatus, sla_status
from . import my_numbers

PAGE_SIZE = 100
POLL_SECONDS = 4
WINDOW = timedelta(hours=24)
CLOSED_STATUSES = (Lead.Status.WON, Lead.Status.LOST)

MINE, UNASSIGNED, ALL = "mine", "unassigned", "all"
AWAITING, FOLLOW_UPS = "awaiting", "followups"
SCOPES = {MINE: "Mine", UNASSIGNED: "Unassigned", ALL: "All"}
VIEWS = {"": "Open", AWAITING: "Awaiting reply", FOLLOW_UPS: "Follow-ups due"}


def short_duration(delta: timedelta) -> str:
    """``7 min``, ``3 h 5 min``, ``2 d 4 h``: how long, at a glance."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxRow:
    lead: Lead
    url: str
    waited: str
    window_left: str
    window_open: bool
    follow_up_due: bool
    sla: SlaStatus = NO_SLA


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxChoice:
    scope: str
    view: str
    manager: bool


def read_choice(request: HttpRequest) -> InboxChoice:
    """The tab and view asked for; a rep asking for Unassigned or All gets Mine (never others' rows)."""
    manager = can_see_all_leads(request.user)
    scope = request.GET.get("scope", MINE)
    if scope not in SCOPES or (scope != MINE and not manager):
        scope = MINE
    view = request.GET.get("view", "")
    if view not in VIEWS:
        view = ""
    return InboxChoice(scope=scope, view=view, manager=manager)


def inbox_leads(user: Any, choice: InboxChoice, *, now: datetime) -> QuerySet[Lead]:
    """The rows of one tab, in inbox order, within what ``user`` may see."""
    leads = visible_leads(user, queryset=Lead.objects.select_related("campaign", "ad", "owner"))
    if choice.scope == MINE:
        leads = leads.filter(owner_id=user.pk)
    elif choice.scope == UNASSIGNED:
        leads = leads.filter(owner__isnull=True)
    if choice.view == AWAITING:
        leads = leads.filter(awaiting_reply_since__isnull=False)
    elif choice.view == FOLLOW_UPS:
        leads = leads.filter(follow_up_at__lte=now)
    else:
        leads = leads.filter(Q(awaiting_reply_since__isnull=False) | ~Q(status__in=CLOSED_STATUSES))
    return leads.order_by(
        F("awaiting_reply_since").asc(nulls_last=True),
        F("last_activity_at").desc(nulls_last=True),
        "-id",
    )


def row_for(lead: Lead, *, now: datetime, site: str) -> InboxRow:
    waited = short_duration(now - lead.awaiting_reply_since) if lead.awaiting_reply_since else ""
    window_left, window_open = "closed", False
    if lead.last_message_at is not None and lead.last_message_at + WINDOW > now:
        window_left, window_open = short_duration(lead.last_message_at + WINDOW - now), True
    return InboxRow(
        lead=lead,
        url=reverse(f"{site}:whatsapp_leads_lead_change", args=[lead.pk]),
        waited=waited,
        window_left=window_left,
        window_open=window_open,
        follow_up_due=lead.follow_up_at is not None and lead.follow_up_at <= now,
        # The campaign came with the row (select_related): no query per row.
        sla=sla_status(lead, now=now) if lead.awaiting_reply_since else NO_SLA,
    )


def campaigns_without_members() -> list[Campaign]:
    """Active campaigns whose leads nobody can take (made automatically for a new ad, say)."""
    members = CampaignMember.objects.filter(campaign=OuterRef("pk"), is_active=True)
    return list(
        Campaign.objects.filter(is_active=True)
        .exclude(routing_strategy=Campaign.Strategy.FIXED, fixed_owner__isnull=False)
        .exclude(Exists(members))
        .order_by("name")[:20]
    )


class InboxAdmin(admin.ModelAdmin):
    """No changelist of its own: the inbox page and its polled rows, for whoever may see leads."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and (user.has_perm("whatsapp_leads.view_lead") or user.has_perm("whatsapp_leads.change_lead"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        page = self.admin_site.admin_view(self.inbox_view)
        rows = self.admin_site.admin_view(self.rows_view)
        return [
            path("", page, name="whatsapp_leads_inbox"),
            path("", page, name="whatsapp_leads_inbox_changelist"),  # the admin index links here
            path("rows/", rows, name="whatsapp_leads_inbox_rows"),
            path(
                "numbers/", self.admin_site.admin_view(self.my_numbers_view), name="whatsapp_leads_my_numbers"
            ),
            path("<path:rest>", self.admin_site.admin_view(self.elsewhere)),
        ]

    def elsewhere(self, request: HttpRequest, rest: str) -> HttpResponse:
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:whatsapp_leads_inbox"))

    def _context(self, request: HttpRequest) -> dict[str, Any]:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        choice = read_choice(request)
        leads = inbox_leads(request.user, choice, now=now)
        try:
            page = max(int(request.GET.get("page", "1")), 1)
        except ValueError:
            page = 1
        start = (page - 1) * PAGE_SIZE
        shown = list(leads[start : start + PAGE_SIZE + 1])
        more = len(shown) > PAGE_SIZE
        site = self.admin_site.name
        mine = visible_leads(request.user).filter(owner_id=request.user.pk)
        unread = mine.aggregate(total=Sum("unread_count"))["total"] or 0
        return {
            "rows": [row_for(lead, now=now, site=site) for lead in shown[:PAGE_SIZE]],
            "choice": choice,
            "page": page,
            "more": more,
            "unread_total": unread,
            "awaiting_total": mine.filter(awaiting_reply_since__isnull=False).count(),
            "query": request.GET.urlencode(),
            "rows_url": reverse(f"{site}:whatsapp_leads_inbox_rows"),
            "my_numbers_url": reverse(f"{site}:whatsapp_leads_my_numbers"),
        }

    def inbox_view(self, request: HttpRequest) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            **self._context(request),
            "title": "Inbox",
            "opts": Lead._meta,
            "scopes": [(k, v) for k, v in SCOPES.items() if k == MINE or can_see_all_leads(request.user)],
            "views": list(VIEWS.items()),
            "poll_seconds": POLL_SECONDS,
            "lead_list_url": reverse(f"{self.admin_site.name}:whatsapp_leads_lead_changelist"),
            "needs_team": campaigns_without_members() if can_see_all_leads(request.user) else [],
        }
        return TemplateResponse(request, "whatsapp_leads/admin/inbox/inbox.html", context)

    def my_numbers_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return my_numbers.my_numbers_view(self, request)

    def rows_view(self, request: HttpRequest) -> TemplateResponse:
        return TemplateResponse(request, "whatsapp_leads/admin/inbox/rows.html", self._context(request))


admin.site.register(Inbox, InboxAdmin)
