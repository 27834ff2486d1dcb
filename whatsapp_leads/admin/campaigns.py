"""Campaign screens: who takes a campaign's leads, and which ads feed it.

Counts are correlated subqueries (``count_of``), so a page of campaigns or ads costs the same
few queries however many leads they brought.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ..aggregates import count_of
from ..models import Ad, Campaign, CampaignMember, Lead
from ..permissions import sees_every_campaign
from ..services.routing.eligibility import describe
from ..services.routing.hours import business_time_zone
from .display import safe_link
from .numbers import numbers_view
from .routing import CampaignMemberForm, with_assigned_today

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class CampaignCounts(TypedDict):
    """What the campaign list annotates (``CampaignAdmin.get_queryset``)."""

    n_active_members: int
    n_leads: int


class AdCounts(TypedDict):
    """What the ad list annotates (``AdAdmin.get_queryset``)."""

    n_leads: int


def leads_link(count: int, *, filter_param: str, pk: int) -> str:
    """The count, linking to the lead list filtered to it (the list still applies row-level visibility)."""
    url = reverse("admin:whatsapp_leads_lead_changelist")
    return format_html('<a href="{}?{}={}">{}</a>', url, filter_param, pk, count)


class CampaignMemberInline(admin.TabularInline):
    """The reps in the campaign's rotation; deactivate or pause rather than delete to keep the order.

    "Right now" says what routing would make of each rep at this moment (paused, capped, off duty
    until when), from the same functions the router uses.
    """

    model = CampaignMember
    form = CampaignMemberForm
    # No ``fields``: every editable routing setting of a member (as routing rules grow) shows up.
    readonly_fields = ("right_now", "created_at")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignMember]:
        queryset = super().get_queryset(request).select_related("user")
        return with_assigned_today(queryset, now=timezone.now(), tz=business_time_zone())

    @admin.display(description="Right now")
    def right_now(self, obj: CampaignMember) -> str:
        if obj.pk is None:
            return "-"
        return describe(obj, now=timezone.now(), tz=business_time_zone())


class AdInline(admin.TabularInline):
    """The campaign's ads, read-only: ads are created by the referrals that name them."""

    model = Ad
    fields = ("meta_id", "name", "headline", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    change_form_template = "whatsapp_leads/admin/campaign/change_form.html"
    list_display = ("name", "meta_id", "is_active", "routing_strategy", "active_members", "leads", "numbers")
    list_filter = ("is_active", "routing_strategy")
    search_fields = ("name", "meta_id")
    inlines = (CampaignMemberInline, AdInline)
    # No ``fields``: every editable routing setting shows up as routing rules grow. What Meta's
    # Marketing API syncs and what the router keeps for itself is shown, not edited.
    readonly_fields = (
        "last_assigned_member",
        "objective",
        "status",
        "account_id",
        "synced_at",
        "created_at",
        "updated_at",
    )

    filter_horizontal = ("managers",)
    sla_fields = ("first_response_sla", "sla_clock", "sla_action", "managers")

    sla_labels = {
        "first_response_sla": "First-response SLA",
        "sla_clock": "Counted in",
        "sla_action": "On a breach",
        "managers": "Managers",
    }

    def get_form(
        self, request: HttpRequest, obj: Campaign | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        for name, label in self.sla_labels.items():
            if name in form.base_fields:
                form.base_fields[name].label = label
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        """Every field as before, with the SLA's own fieldset (docs/sla.md) after them."""
        fields = [f for f in self.get_fields(request, obj) if f not in self.sla_fields]
        sla = {
            "fields": self.sla_fields,
            "description": "How soon a person must first answer a new lead, counted in business time "
            "(the owner's working hours) or on the wall clock. On a breach: notify the owner, then the "
            "managers one SLA period later; or re-assign to the next eligible member.",
        }
        return [(None, {"fields": fields}), ("First-response SLA", sla)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        campaigns = super().get_queryset(request)
        own: dict[str, Any] = {}
        if not sees_every_campaign(request.user):
            # A rep: the campaigns they belong to, counting only their own leads.
            me: Any = request.user
            member = CampaignMember.objects.filter(campaign=OuterRef("pk"), user=me)
            campaigns = campaigns.filter(Exists(member))
            own = {"owner": request.user}
        return campaigns.select_related(
            "last_assigned_member__user", "fallback_owner", "fixed_owner"
        ).annotate(
            n_active_members=count_of(CampaignMember, fk="campaign", is_active=True),
            n_leads=count_of(Lead, fk="campaign", **own),
        )

    @admin.display(description="Active members", ordering="n_active_members")
    def active_members(self, obj: WithAnnotations[Campaign, CampaignCounts]) -> str:
        """A campaign nobody can take leads of (made automatically for a new ad) needs a team."""
        fixed = obj.routing_strategy == Campaign.Strategy.FIXED and obj.fixed_owner_id is not None
        if obj.n_active_members or fixed:
            return str(obj.n_active_members)
        return format_html('<span class="wl-needs-team" style="color:#ba2121">{}</span>', "0: needs a team")

    @admin.display(description="Leads", ordering="n_leads")
    def leads(self, obj: WithAnnotations[Campaign, CampaignCounts]) -> str:
        return leads_link(obj.n_leads, filter_param="campaign__id__exact", pk=obj.pk)

    @admin.display(description="Numbers")
    def numbers(self, obj: Campaign) -> str:
        url = reverse("admin:whatsapp_leads_campaign_numbers", args=[obj.pk])
        return format_html('<a href="{}">Numbers</a>', url)

    def get_urls(self) -> list[URLPattern]:
        def view(request: HttpRequest, object_id: str) -> HttpResponse:
            return numbers_view(self, request, object_id)

        numbers = path(
            "<path:object_id>/numbers/",
            self.admin_site.admin_view(view),
            name="whatsapp_leads_campaign_numbers",
        )
        return [numbers, *super().get_urls()]


@admin.register(Ad)
class AdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "meta_id", "campaign", "headline", "leads", "created_at")
    list_filter = ("campaign",)
    search_fields = ("meta_id", "name", "headline")
    list_select_related = ("campaign",)
    fieldsets = (
        (
            None,
            {
                "fields": ("meta_id", "name", "campaign"),
                "description": "Leads that arrive from this ad from now on join its campaign; "
                "existing leads keep the campaign they came with.",
            },
        ),
        ("From the latest referral", {"fields": ("headline", "source_link", "created_at", "updated_at")}),
        (
            "From Meta's Marketing API",
            {
                "fields": (
                    "adset",
                    "status",
                    "effective_status",
                    "account_id",
                    "synced_at",
                    "looked_up_at",
                    "lookup_error",
                )
            },
        ),
    )
    meta_fields = (
        "headline",
        "source_link",
        "created_at",
        "updated_at",
        "adset",
        "status",
        "effective_status",
        "account_id",
        "synced_at",
        "looked_up_at",
        "lookup_error",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ad]:
        return super().get_queryset(request).annotate(n_leads=count_of(Lead, fk="ad"))

    def get_readonly_fields(self, request: HttpRequest, obj: Ad | None = None) -> tuple[str, ...]:
        # Meta's ad id is the key referrals are matched on; it is typed once, when the ad is added.
        return ("meta_id", *self.meta_fields) if obj is not None else self.meta_fields

    @admin.display(description="Leads", ordering="n_leads")
    def leads(self, obj: WithAnnotations[Ad, AdCounts]) -> str:
        return leads_link(obj.n_leads, filter_param="ad__id__exact", pk=obj.pk)

    @admin.display(description="Ad URL")
    def source_link(self, obj: Ad) -> str:
        return safe_link(obj.source_url)
