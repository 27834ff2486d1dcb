"""The audit of erasures: that a person's data was erased, when, by whom and why, without the data.

Under the DPDP Act the business must be able to show it erased what it was asked to; it must not
keep the personal data to show it. So the record holds counts of rows per kind, never a number,
name or message.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ErasureRecord(models.Model):
    """One erasure: the anonymised lead's id, the cause, and how many rows of each kind went."""

    class Trigger(models.TextChoices):
        ADMIN = "admin", "Admin action"
        API = "api", "REST API"
        COMMAND = "command", "Management command"
        RETENTION = "retention", "Retention period"
        OTHER = "other", "Other"

    lead_id_erased = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Primary key of the anonymised lead row (not personal data: the row has no identity left).",
    )
    erased_at = models.DateTimeField(help_text="When the erasure ran.")
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who asked for it; empty for retention.",
    )
    erased_by_label = models.CharField(
        max_length=150, blank=True, help_text="Their username at the time, kept if the user is deleted."
    )
    trigger = models.CharField(
        max_length=12, choices=Trigger.choices, default=Trigger.OTHER, help_text="What started it."
    )
    reason = models.CharField(
        max_length=500,
        help_text="Why, in staff's words (e.g. 'data principal request of 2 Dec'); write no personal data here.",
    )
    counts = models.JSONField(
        default=dict,
        blank=True,
        help_text="Rows removed or anonymised per kind (model label, 'files', 'webhook bodies rewritten', ...).",
    )

    class Meta:
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"Erasure of lead #{self.lead_id_erased} at {self.erased_at:%Y-%m-%d %H:%M}"
