"""Personal data in the admin: erase a person (with a page naming what goes), export their data,
and the audit of past erasures. Managers only (``permissions.can_erase_leads``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from ..models import ErasureRecord, Lead
from ..services.privacy import AlreadyErased, erase_lead, export_json
from ..services.privacy.preview import erasure_preview
from .action_pages import action_page_context

# The confirmation page lists what goes for each lead; more than this are erased from the list page.
PREVIEW_LIMIT = 50


class ErasureForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        help_text="Kept in the audit record, e.g. 'data principal request of 2 Dec' or 'consent withdrawn'. "
        "Write no personal data here.",
        widget=forms.TextInput(attrs={"size": 60}),
    )


def erase_leads(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]) -> Any:
    """First a page naming what will go for each lead; on its submit, erase each one."""
    form = ErasureForm(request.POST if "apply" in request.POST else None)
    leads = list(queryset.filter(erased_at__isnull=True).order_by("pk"))
    if form.is_bound and form.is_valid():
        done = 0
        for lead in leads:
            try:
                erase_lead(
                    lead, form.cleaned_data["reason"], request.user, trigger=ErasureRecord.Trigger.ADMIN
                )
            except AlreadyErased:
                continue
            done += 1
        model_admin.message_user(
            request, f"Erased the personal data of {done} lead(s); the rows stay, anonymised."
        )
        return None
    if form.is_bound:
        model_admin.message_user(request, "Give a reason for the erasure.", messages.ERROR)
    context = action_page_context(
        model_admin,
        request,
        title="Erase personal data",
        form=form,
        previews=[(lead, erasure_preview(lead)) for lead in leads[:PREVIEW_LIMIT]],
        count=len(leads),
    )
    return TemplateResponse(request, "whatsapp_leads/admin/lead/erase.html", context)


def export_leads(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> HttpResponse:
    """The selected leads' data as one JSON download, for a data principal's request."""
    leads = list(queryset.order_by("pk"))
    name = f"whatsapp-person-export-{timezone.now():%Y%m%d-%H%M%S}.json"
    response = HttpResponse(export_json(leads), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """The audit of erasures: read only, never deleted here."""

    list_display = ("erased_at", "lead_id_erased", "trigger", "erased_by_label", "reason")
    list_filter = ("trigger", "erased_at")
    readonly_fields = (
        "lead_id_erased",
        "erased_at",
        "erased_by",
        "erased_by_label",
        "trigger",
        "reason",
        "counts",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
