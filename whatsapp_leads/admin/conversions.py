"""The Conversions API log: every event recorded for Meta, what was sent and what Meta answered.

Read-only like the webhook log (it is the record of what Meta was told); users with the model's
``change`` permission may send failed events again. Each lead's page lists its own events (``lead/conversions.html``).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from ..models import ConversionEvent
from ..services.conversions.outbox import resend
from .display import pretty_json
from .webhooks import ReadOnlyAdmin

FIELDS = (
    "lead",
    "event_name",
    "stage",
    "status",
    "event_id",
    "event_time",
    "value",
    "currency",
    "dataset_id",
    "test_event_code",
    "attempts",
    "next_attempt_at",
    "error",
    "events_received",
    "fbtrace_id",
    "sent_at",
    "sent_body",
    "meta_answer",
    "created_at",
    "updated_at",
)


@admin.register(ConversionEvent)
class ConversionEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "lead",
        "event_name",
        "status",
        "value",
        "currency",
        "attempts",
        "short_error",
    )
    list_filter = ("status", "event_name", "created_at")
    search_fields = ("event_id", "fbtrace_id", "lead__phone", "lead__name")
    list_select_related = ("lead",)
    date_hierarchy = "created_at"
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ("send_again",)

    @admin.display(description="Error")
    def short_error(self, obj: ConversionEvent) -> str:
        return Truncator(obj.error).chars(80)

    @admin.display(description="Sent body")
    def sent_body(self, obj: ConversionEvent) -> str:
        return pretty_json(obj.payload)

    @admin.display(description="Meta's answer")
    def meta_answer(self, obj: ConversionEvent) -> str:
        return pretty_json(obj.response)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description="Send again (failed events only)", permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[ConversionEvent]) -> None:
        count = resend(queryset)
        skipped = queryset.count() - count
        self.message_user(request, f"{count} event(s) queued to send again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: already sent (Meta would count it twice) or without ctwa_clid.",
                messages.WARNING,
            )
