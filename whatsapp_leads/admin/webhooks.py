"""The webhook log: every stored event and account notice, read-only, with a re-process action.

Events are evidence of what Meta sent, so nobody edits or deletes them here. Re-processing is
allowed to users holding the model's ``change`` permission (the screen itself stays read-only).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from ..models import AccountEvent, WebhookEvent
from ..services.processing import process_event
from .display import EMPTY, preformatted, pretty_body, pretty_json

# Selections up to this size are processed inside the request, so the result shows at once and
# the action works while the broker is down; larger ones go to the workers.
INLINE_REPROCESS_LIMIT = 50


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete for anyone; users with the view permission see everything."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


def reprocess_inline(ids: list[int]) -> dict[str, int]:
    """Run each event now (``force``: processed ones too); outcome name -> how many."""
    counts: dict[str, int] = {}
    for pk in ids:
        status = process_event(pk, force=True).status
        counts[status] = counts.get(status, 0) + 1
    return counts


def reprocess_queued(ids: list[int]) -> tuple[int, int]:
    """Mark the events pending and queue them; (queued, not queued).

    An event the broker refused stays pending with no ``queued_at``, so the next sweep (seconds
    later) queues it again.
    """
    queued = WebhookEvent.objects.filter(pk__in=ids).requeue()
    return queued, len(ids) - queued


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "received_at", "provider", "status", "attempts", "update_count", "short_error")
    list_filter = ("status", "received_at", "provider")
    search_fields = ("error",)
    show_full_result_count = False
    actions = ("reprocess",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "provider",
                    "status",
                    "received_at",
                    "queued_at",
                    "processed_at",
                    "attempts",
                    "update_count",
                    "remote_addr",
                )
            },
        ),
        ("Failure", {"fields": ("error_text", "traceback_text")}),
        ("Request", {"fields": ("headers_json", "redacted_at", "body_dropped_at", "body_pretty")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEvent | None = None) -> list[str]:
        return flatten_fieldsets(self.fieldsets)  # an inbox: everything shown, nothing editable

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        # Bodies reach 3 MB: the list never loads them; the detail page fetches its one body.
        return super().get_queryset(request).defer("body", "traceback", "headers")

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description="Re-process selected events", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        ids = list(queryset.order_by("received_at", "pk").values_list("pk", flat=True))
        if len(ids) <= INLINE_REPROCESS_LIMIT:
            counts = reprocess_inline(ids)
            processed, failed = counts.get("processed", 0), counts.get("failed", 0)
            skipped = len(ids) - processed - failed
            text = f"Re-processed {len(ids)} event(s): {processed} processed, {failed} failed"
            text += f", {skipped} gone." if skipped else "."
            self.message_user(request, text, messages.WARNING if failed else messages.SUCCESS)
            return
        queued, refused = reprocess_queued(ids)
        text = f"Queued {queued} event(s) for re-processing."
        if refused:
            text += f" {refused} could not be queued (broker unavailable); the sweep will retry them."
        self.message_user(request, text, messages.WARNING if refused else messages.SUCCESS)

    @admin.display(description="Error")
    def short_error(self, obj: WebhookEvent) -> str:
        first_line = obj.error.strip().splitlines()[0] if obj.error.strip() else ""
        return Truncator(first_line).chars(80) or EMPTY

    @admin.display(description="Error")
    def error_text(self, obj: WebhookEvent) -> str:
        return preformatted(obj.error)

    @admin.display(description="Traceback")
    def traceback_text(self, obj: WebhookEvent) -> str:
        return preformatted(obj.traceback)

    @admin.display(description="Headers")
    def headers_json(self, obj: WebhookEvent) -> str:
        return pretty_json(obj.headers)

    @admin.display(description="Body")
    def body_pretty(self, obj: WebhookEvent) -> str:
        return pretty_body(obj.body_bytes)


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "field", "event", "summary", "waba_id")
    list_filter = ("field", "event")
    search_fields = ("summary", "waba_id", "event")
    fields = (
        "created_at",
        "occurred_at",
        "field",
        "event",
        "waba_id",
        "summary",
        "webhook_event",
        "payload_json",
    )
    readonly_fields = fields

    @admin.display(description="Payload")
    def payload_json(self, obj: AccountEvent) -> str:
        return pretty_json(obj.payload)
