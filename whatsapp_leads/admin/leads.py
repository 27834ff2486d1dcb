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
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.urls import URLPattern, path
from django.utils.text import Truncator

from ..conf import app_settings
from ..models import Lead, LeadAssignment
from ..permissions import can_erase_leads, can_reassign_leads, can_see_all_leads, visible_leads
from ..services import assignment
from ..services.outbound import read_receipts
from . import privacy, reassign, reply
from .display import pretty_json, safe_link
from .export import export_csv
from .media import lead_media_view, redownload_failed_media
from .transcript import build_transcript

# Identity and consent changes shown on the lead page, newest first.
HISTORY_LIMIT = 200


class LeadAssignmentInline(admin.TabularInline):
    """The audit trail behind ``Lead.owner``: read-only, newest first."""

    model = LeadAssignment
    fk_name = "lead"
    verbose_name = "assignment"
    verbose_name_plural = "Assignment history"
    fields = ("created_at", "owner", "previous_owner", "reason", "campaign", "assigned_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[LeadAssignment]:
        return (
            super().get_queryset(request).select_related("owner", "previous_owner", "campaign", "assigned_by")
        )

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


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadAdminForm
    change_form_template = "whatsapp_leads/admin/lead/change_form.html"
    list_display = (
        "display_name",
        "phone",
        "campaign",
        "owner",
        "status",
        "first_message_short",
        "created_at",
        "last_message_at",
    )
    list_display_links = ("display_name", "phone")
    list_filter = (
        ("campaign", admin.RelatedOnlyFieldListFilter),
        ("owner", admin.RelatedOnlyFieldListFilter),
        "status",
        "country",  # ad loop
        "created_at",
    )
    date_hierarchy = "created_at"
    search_fields = ("phone", "name", "wa_id", "user_id", "username", "email")
    list_select_related = ("campaign", "owner")
    save_on_top = True
    inlines = (LeadAssignmentInline,)
    actions = (
        "reassign_leads",
        "redownload_media",
        "export_leads",
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

    def get_list_filter(self, request: HttpRequest) -> tuple:
        if can_see_all_leads(request.user):
            return self.list_filter
        # A rep's list holds only their own leads: an owner filter would offer nothing but them.
        return tuple(f for f in self.list_filter if not (isinstance(f, tuple) and f[0] == "owner"))

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> tuple[str, ...]:
        shown = flatten_fieldsets(self.fieldsets)
        editable = (
            self.editable_fields if can_see_all_leads(request.user) else ("name", "status", *AD_LOOP_EDITABLE)
        )
        return tuple(name for name in shown if name not in editable)

    # --- saving ---------------------------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        """A re-assignment goes through the assignment service, so it is audited and announced."""
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

    @admin.action(description="Export selected as CSV (with UTM and location)", permissions=["view"])
    def export_leads(self, request: HttpRequest, queryset: QuerySet[Lead]) -> Any:
        return export_csv(queryset)  # ad loop

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
        return [media, send, resend, *super().get_urls()]

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
            # Shown in the template, not as an inline: read-only rows need no formset to post back.
            context["lead_history"] = list(obj.history.all()[:HISTORY_LIMIT])
            context["conversion_events"] = list(obj.conversion_events.order_by("created_at", "pk"))  # ad loop
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- columns and read-only fields -----------------------------------------------------------
    @admin.display(description="Name", ordering="name")
    def display_name(self, obj: Lead) -> str:
        return obj.name or "(no name)"

    @admin.display(description="First message")
    def first_message_short(self, obj: Lead) -> str:
        return Truncator(obj.first_message).chars(60)

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
