"""The sales screen: leads, with the chat transcript, the ad that brought them and who got them.

Row-level visibility: a rep sees only leads they own; a "manager" (``whatsapp_leads.view_all_leads``)
or a superuser sees all. The rule lives in ``whatsapp_leads.permissions``, shared with the REST API.
Everything that lists or fetches leads goes through ``get_queryset``, so the changelist, the change
page, the history page and the filters' choices agree.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator

from ..conf import app_settings
from ..models import Lead, LeadAssignment
from ..permissions import can_erase_leads, can_reassign_leads, can_see_all_leads, visible_leads
from ..services import assignment, lead_activity, lead_export, lead_search, lead_status
from ..services.outbound import read_receipts
from ..services.sla_state import sla_status
from . import privacy, reassign, reply, workspace
from .display import pretty_json, safe_link
from .engagement import engagement_card
from .inbox import short_duration
from .media import lead_media_view, redownload_failed_media
from .transcript import build_transcript
from .utm_filters import UtmCampaignFilter, UtmSourceFilter

# Identity and consent changes shown on the lead page, newest first.
HISTORY_LIMIT = 200


def person(user: Any) -> str:
    """A user's name as plain text (``-`` for nobody)."""
    if user is None:
        return "-"
    return (user.get_full_name() or "").strip() or user.get_username()


class LeadAssignmentInline(admin.TabularInline):
    """The audit trail behind ``Lead.owner``: read-only, newest first."""

    model = LeadAssignment
    fk_name = "lead"
    verbose_name = "assignment"
    verbose_name_plural = "Assignment history"
    # Names, not links: a rep must never be sent to a user or campaign page they may not open.
    fields = (
        "created_at",
        "owner_name",
        "previous_owner_name",
        "reason",
        "campaign_name",
        "assigned_by_name",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[LeadAssignment]:
        return (
            super().get_queryset(request).select_related("owner", "previous_owner", "campaign", "assigned_by")
        )

    @admin.display(description="Owner")
    def owner_name(self, obj: LeadAssignment) -> str:
        return person(obj.owner)

    @admin.display(description="Previous owner")
    def previous_owner_name(self, obj: LeadAssignment) -> str:
        return person(obj.previous_owner)

    @admin.display(description="Campaign")
    def campaign_name(self, obj: LeadAssignment) -> str:
        return str(obj.campaign) if obj.campaign is not None else "-"

    @admin.display(description="Assigned by")
    def assigned_by_name(self, obj: LeadAssignment) -> str:
        return person(obj.assigned_by)

    def has_add_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        # Shown to whoever may see the lead: a rep needs no separate LeadAssignment permission.
        user = request.user
        return user.has_perm("whatsapp_leads.view_lead") or user.has_perm("whatsapp_leads.change_lead")


# --- ad loop: "Won" asks for the deal value -----------------------------------------------------
class LeadAdminForm(forms.ModelForm):
    """Marking a lead won asks for the deal's value: it is Meta's Purchase value and our revenue."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            "deal_value" in self.fields
            and data.get("status") == Lead.Status.WON
            and data.get("deal_value") is None
        ):
            self.add_error(
                "deal_value", "A won lead needs its deal value (sent to Meta with the Purchase event)."
            )
        return data


AD_LOOP_EDITABLE = ("deal_value", "deal_currency")
# --- end ad loop ------------------------------------------------------------------------------------


class FollowUpFilter(admin.SimpleListFilter):
    """Leads whose follow-up is due (now or past) or set for later."""

    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("due", "Due"), ("later", "Later"), ("none", "None set")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        now = timezone.now()
        if self.value() == "due":
            return queryset.filter(follow_up_at__lte=now)
        if self.value() == "later":
            return queryset.filter(follow_up_at__gt=now)
        if self.value() == "none":
            return queryset.filter(follow_up_at__isnull=True)
        return queryset


def _csv_response(leads: QuerySet[Lead]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lead_export.csv_lines(leads), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadAdminForm
    change_form_template = "whatsapp_leads/admin/lead/change_form.html"
    list_display = (
        "display_name",
        "phone",
        "campaign_name",
        "owner",
        "status",
        "first_message_short",
        "last_message_short",
    )
    change_list_template = "whatsapp_leads/admin/lead/change_list.html"
    list_display_links = ("display_name", "phone")
    list_filter = (
        FollowUpFilter,
        ("campaign", admin.RelatedOnlyFieldListFilter),
        ("owner", admin.RelatedOnlyFieldListFilter),
        "status",
        "country",  # ad loop
        UtmSourceFilter,
        UtmCampaignFilter,
        "created_at",
    )
    date_hierarchy = "created_at"
    search_fields = ("phone", "name", "wa_id", "user_id", "username", "email")
    list_select_related = ("campaign", "owner")
    save_on_top = True
    inlines = (LeadAssignmentInline,)
    actions = (
        "mark_contacted",
        "mark_qualified",
        "mark_lost",
        "reassign_leads",
        "export_csv",
        "redownload_media",
        "export_personal_data",
        "erase_personal_data",
    )
    fieldsets = (
        (None, {"fields": ("name", "status", "owner", *AD_LOOP_EDITABLE)}),
        (
            "Contact",
            {
                "fields": (
                    "phone",
                    "email",
                    "city",
                    "wa_id",
                    "user_id",
                    "username",
                    "marketing_opt_out",
                    "marketing_opt_out_at",
                    "form_answers",
                )
            },
        ),
        (
            "Ad that brought the lead",
            {"fields": ("ad_meta_id", "ad_headline", "campaign", "ad_link", "ctwa_clid")},
        ),
        ("Where from (UTM, location)", {"fields": ("utm_shown", "country", "location_shown")}),  # ad loop
        ("Timeline", {"fields": ("created_at", "first_message_at", "first_message", "last_message_at")}),
    )
    # Everything but these comes from WhatsApp and is shown, never edited.
    editable_fields = ("name", "status", "owner", *AD_LOOP_EDITABLE)

    # --- visibility -------------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        qs = super().get_queryset(request).select_related("campaign", "owner", "ad")
        return visible_leads(request.user, queryset=qs)

    def _owns_or_manages(self, request: HttpRequest, obj: Lead | None) -> bool:
        return obj is None or can_see_all_leads(request.user) or obj.owner_id == request.user.pk

    def has_view_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return super().has_view_permission(request, obj) and self._owns_or_manages(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._owns_or_manages(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        # Never a plain row delete: it would leave the files and the raw webhook bodies, from which a
        # re-process brings the person back. "Erase personal data" is the way (managers only).
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Leads are made by WhatsApp messages; a hand-made one would have no identity or thread.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Lead], search_term: str
    ) -> tuple[QuerySet[Lead], bool]:
        """A phone number in any format, a name, or words from the messages (services/lead_search)."""
        return lead_search.search_leads(queryset, search_term), False

    def get_list_filter(self, request: HttpRequest) -> tuple:
        if can_see_all_leads(request.user):
            return self.list_filter
        # A rep's list holds only their own leads: an owner filter would offer nothing but them.
        return tuple(f for f in self.list_filter if not (isinstance(f, tuple) and f[0] == "owner"))

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> Any:
        if can_reassign_leads(request.user):
            return self.fieldsets
        # Whoever cannot re-assign sees the owner's name, never a link to a user page.
        return tuple(
            (
                name,
                {**options, "fields": tuple("owner_name" if f == "owner" else f for f in options["fields"])},
            )
            for name, options in self.fieldsets
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> tuple[str, ...]:
        shown = flatten_fieldsets(self.get_fieldsets(request, obj))
        editable = (
            self.editable_fields if can_see_all_leads(request.user) else ("name", "status", *AD_LOOP_EDITABLE)
        )
        return tuple(name for name in shown if name not in editable)

    # --- saving ---------------------------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        """A re-assignment goes through the assignment service, so it is audited and announced;
        a status change is recorded with its old and new value."""
        if change and "status" in form.changed_data:
            lead_status.record_change(
                obj, old=form.initial.get("status", ""), new=obj.status, by=request.user
            )
        if not (change and "owner" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        new_owner = obj.owner
        obj.owner_id = form.initial.get("owner")
        super().save_model(request, obj, form, change)
        assignment.reassign(obj, owner=new_owner, by=request.user)

    # --- actions --------------------------------------------------------------------------------
    def has_reassign_permission(self, request: HttpRequest) -> bool:
        return can_reassign_leads(request.user)

    @admin.action(description="Re-assign to…", permissions=["reassign"])
    def reassign_leads(self, request: HttpRequest, queryset: QuerySet[Lead]) -> Any:
        return reassign.reassign_leads(self, request, queryset)

    def _bulk_status(self, request: HttpRequest, queryset: QuerySet[Lead], status: str) -> None:
        changed = 0
        for lead in queryset.select_related(None).only(
            "pk", "status"
        ):  # narrowed to the rows the user may see
            changed += lead_status.change_status(
                lead, status=status, by=request.user, source=lead_status.Source.BULK
            )
        self.message_user(request, f"{changed} lead(s) marked {Lead.Status(status).label}.")

    @admin.action(description="Mark selected as Contacted", permissions=["change"])
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._bulk_status(request, queryset, Lead.Status.CONTACTED)

    @admin.action(description="Mark selected as Qualified", permissions=["change"])
    def mark_qualified(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._bulk_status(request, queryset, Lead.Status.QUALIFIED)

    @admin.action(description="Mark selected as Lost", permissions=["change"])
    def mark_lost(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._bulk_status(request, queryset, Lead.Status.LOST)

    # --- export: managers, the selection (action) or the filtered list (export/ view) -------------
    def has_export_permission(self, request: HttpRequest) -> bool:
        return can_see_all_leads(request.user) and self.has_view_permission(request)

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> StreamingHttpResponse:
        return _csv_response(queryset)

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The whole filtered list (the change list's filters and search in the query string)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return _csv_response(changelist.get_queryset(request))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        extra = {"may_export": self.has_export_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    @admin.action(description="Re-download failed media", permissions=["change"])
    def redownload_media(self, request: HttpRequest, queryset: QuerySet[Lead]) -> Any:
        return redownload_failed_media(self, request, queryset)

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return can_erase_leads(request.user)

    @admin.action(description="Export personal data (JSON)", permissions=["erase"])
    def export_personal_data(self, request: HttpRequest, queryset: QuerySet[Lead]) -> Any:
        return privacy.export_leads(self, request, queryset)

    @admin.action(description="Erase personal data…", permissions=["erase"])
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet[Lead]) -> Any:
        return privacy.erase_leads(self, request, queryset)

    # --- files: served only through this view (the media storage is private) ----------------------
    def get_urls(self) -> list[URLPattern]:
        media = path(
            "<int:lead_pk>/media/<int:message_pk>/",
            # cacheable: the response sets its own private Cache-Control
            self.admin_site.admin_view(self.media_view, cacheable=True),
            name=f"{self.opts.app_label}_{self.opts.model_name}_media",
        )
        send = path(
            "<int:lead_pk>/send/",
            self.admin_site.admin_view(self.send_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_send",
        )
        resend = path(
            "<int:lead_pk>/resend/<int:message_pk>/",
            self.admin_site.admin_view(self.resend_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_resend",
        )
        work = [
            path(
                f"<int:lead_pk>/{route}/",
                self.admin_site.admin_view(view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_{name}",
            )
            for route, view, name in (
                ("status", self.status_view, "status"),
                ("notes", self.note_view, "note"),
                ("follow-up", self.follow_up_view, "follow_up"),
            )
        ]
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_export",
        )
        return [media, send, resend, *work, export, *super().get_urls()]

    # --- the work panel: quick status, notes, follow-up (admin/workspace.py) ----------------------
    def status_view(self, request: HttpRequest, lead_pk: int) -> Any:
        return workspace.status_view(self, request, lead_pk)

    def note_view(self, request: HttpRequest, lead_pk: int) -> Any:
        return workspace.note_view(self, request, lead_pk)

    def follow_up_view(self, request: HttpRequest, lead_pk: int) -> Any:
        return workspace.follow_up_view(self, request, lead_pk)

    # --- sending: the reply box (admin/reply.py) ------------------------------------------------
    def send_view(self, request: HttpRequest, lead_pk: int) -> Any:
        return reply.send_view(self, request, lead_pk)

    def resend_view(self, request: HttpRequest, lead_pk: int, message_pk: int) -> Any:
        return reply.resend_view(self, request, lead_pk, message_pk)

    def media_view(self, request: HttpRequest, lead_pk: int, message_pk: int) -> FileResponse:
        return lead_media_view(self, request, lead_pk, message_pk)

    # --- the change page ------------------------------------------------------------------------
    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Lead | None = None,
    ) -> Any:
        if obj is not None and obj.pk:
            context["transcript"] = build_transcript(obj, site=self.admin_site.name)
            context["reply_box"] = reply.reply_box(
                obj, site=self.admin_site.name, may_send=self.has_change_permission(request, obj)
            )
            context["reply_form_id"] = reply.FORM_ID
            if app_settings.MARK_READ_ON_OPEN and obj.owner_id == request.user.pk:
                read_receipts.mark_read_on_open(obj)
            lead_activity.mark_read(obj, user=request.user)
            context.update(
                workspace.panel_context(
                    obj, site=self.admin_site.name, may_change=self.has_change_permission(request, obj)
                )
            )
            context["engagement"] = engagement_card(obj, now=timezone.now())
            # Shown in the template, not as an inline: read-only rows need no formset to post back.
            context["lead_history"] = list(obj.history.all()[:HISTORY_LIMIT])
            context["conversion_events"] = list(obj.conversion_events.order_by("created_at", "pk"))  # ad loop
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- columns and read-only fields -----------------------------------------------------------
    @admin.display(description="Owner")
    def owner_name(self, obj: Lead) -> str:
        return person(obj.owner)

    @admin.display(description="Campaign", ordering="campaign__name")
    def campaign_name(self, obj: Lead) -> str:
        """The campaign as text that may wrap (Django keeps a foreign-key column on one line, which
        pushed the list past a 1366 px screen once campaigns had real names)."""
        return obj.campaign.name if obj.campaign is not None else "-"

    @admin.display(description="Name", ordering="name")
    def display_name(self, obj: Lead) -> str:
        return obj.name or "(no name)"

    @admin.display(description="First message")
    def first_message_short(self, obj: Lead) -> str:
        return Truncator(obj.first_message).chars(60)

    @admin.display(description="Last message", ordering="last_message_at")
    def last_message_short(self, obj: Lead) -> str:
        """One short column (it used to be two long date columns that fell off a laptop screen);
        the creation date is still the list's date filter and hierarchy. Under the time, how long
        the lead has waited for an answer against its campaign's SLA (``list_select_related``
        brings the campaign, so no query per row); a column of its own would not fit at 1366 px."""
        shown = (
            "-"
            if obj.last_message_at is None
            else date_format(timezone.localtime(obj.last_message_at), "j M, H:i")
        )
        if obj.awaiting_reply_since is None:
            return shown
        now = timezone.now()
        wait = render_to_string(
            "whatsapp_leads/admin/sla_wait.html",
            {
                "sla": sla_status(obj, now=now),
                "waited": short_duration(now - obj.awaiting_reply_since),
                "compact": True,
            },
        )
        return format_html("{}<div>{}</div>", shown, wait)

    @admin.display(description="Form answers")
    def form_answers(self, obj: Lead) -> str:
        return pretty_json(obj.extra)

    @admin.display(description="UTM and reference")
    def utm_shown(self, obj: Lead) -> str:
        return pretty_json(obj.utm)

    @admin.display(description="Location")
    def location_shown(self, obj: Lead) -> str:
        return pretty_json(obj.location)

    @admin.display(description="Ad id")
    def ad_meta_id(self, obj: Lead) -> str:
        return obj.ad.meta_id if obj.ad is not None else (obj.source_ad_id or "-")

    @admin.display(description="Ad headline")
    def ad_headline(self, obj: Lead) -> str:
        return (obj.ad.headline or obj.ad.name or "-") if obj.ad is not None else "-"

    @admin.display(description="Ad URL")
    def ad_link(self, obj: Lead) -> str:
        return safe_link(obj.ad.source_url) if obj.ad is not None else "-"
