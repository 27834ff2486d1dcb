"""What sales staff add to a lead while working it: private notes and the record of status changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LeadNote(models.Model):
    """A rep's note on a lead: shown in the lead's timeline to whoever may see the lead."""

    lead = models.ForeignKey(
        "whatsapp_leads.Lead", on_delete=models.CASCADE, related_name="notes", help_text="The lead."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who wrote it.",
    )
    text = models.TextField(help_text="The note, as typed.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="When it was written.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "created_at"], name="wl_note_lead_at")]

    def __str__(self) -> str:
        return f"Note on {self.lead_id} by {self.author_id}"


class LeadStatusChange(models.Model):
    """One change of ``Lead.status``: old and new value, who and where, so the history says more
    than "Changed Status." and API changes leave a trace too."""

    class Source(models.TextChoices):
        ADMIN = "admin", "Lead page"
        QUICK = "quick", "Quick button"
        BULK = "bulk", "Bulk action"
        API = "api", "REST API"
        SYSTEM = "system", "Automatic"

    lead = models.ForeignKey(
        "whatsapp_leads.Lead", on_delete=models.CASCADE, related_name="status_changes", help_text="The lead."
    )
    old_status = models.CharField(max_length=12, help_text="Status before the change.")
    new_status = models.CharField(max_length=12, help_text="Status after the change.")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who changed it; empty when automatic.",
    )
    source = models.CharField(
        max_length=8, choices=Source.choices, default=Source.ADMIN, help_text="Where the change was made."
    )
    deal_value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Won: the deal's value the rep gave with the change.",
    )
    deal_currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code of deal_value.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="When it changed.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "created_at"], name="wl_status_change_lead_at")]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.old_status} -> {self.new_status}"
