"""The Conversions API outbox: one row per (lead, event) that Meta should hear about.

Like the inbox, the row is written first and sent by a task; the unique (lead, event name) makes
every stage fire once however often the trigger runs (redelivered webhooks, two workers, an admin
saving twice). The row keeps what was sent and Meta's answer, so staff can see why an event did
or did not reach Meta and send it again.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ConversionEvent(models.Model):
    """One event for Meta's Conversions API for business messaging."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NOT_ATTRIBUTABLE = "not_attributable", "Not attributable (no ctwa_clid)"

    lead = models.ForeignKey(
        "whatsapp_leads.Lead",
        on_delete=models.CASCADE,
        related_name="conversion_events",
        help_text="The lead.",
    )
    event_name = models.CharField(
        max_length=40, help_text="Meta's event name, e.g. LeadSubmitted or Purchase."
    )
    stage = models.CharField(max_length=40, help_text="What triggered it: lead_created or a lead status.")
    event_id = models.CharField(
        max_length=80, unique=True, help_text="Our id for the event, sent as event_id."
    )
    event_time = models.DateTimeField(help_text="When the stage was reached (sent as Unix seconds).")
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
        help_text="Delivery state.",
    )
    value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="custom_data.value as sent."
    )
    currency = models.CharField(max_length=3, blank=True, help_text="custom_data.currency as sent.")
    dataset_id = models.CharField(max_length=32, blank=True, help_text="The dataset it was sent to.")
    test_event_code = models.CharField(max_length=64, blank=True, help_text="META_TEST_EVENT_CODE when sent.")
    payload = models.JSONField(default=dict, blank=True, help_text="The request body last sent to Meta.")
    response = models.JSONField(default=dict, blank=True, help_text="Meta's answer to it.")
    events_received = models.IntegerField(null=True, blank=True, help_text="Meta's events_received.")
    fbtrace_id = models.CharField(
        max_length=64, blank=True, help_text="Meta's trace id, for a support ticket."
    )
    error = models.TextField(blank=True, help_text="Why the last attempt failed, in words.")
    attempts = models.PositiveIntegerField(default=0, help_text="Send attempts so far.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a pending event is due (empty: now)."
    )
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When Meta accepted it.")
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, help_text="When the stage was recorded."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row last changed.")

    class Meta:
        ordering = ["-created_at", "-id"]
        # Once per event_id (unique above): once per lead and event, and a Purchase once per win.
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="wl_conversion_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} for lead {self.lead_id} ({self.get_status_display()})"
