"""A lead's history: what its identity, name and consent were before they changed.

Numbers, business-scoped ids and profile names change; sales staff still need to find a lead by
the number they wrote down last month, and merges must be explainable. Each row is one change.
"""

from __future__ import annotations

from django.db import models


class LeadHistory(models.Model):
    """One change to a lead: the value before, the value after, and what caused it."""

    class Kind(models.TextChoices):
        NAME = "name", "Profile name"
        USERNAME = "username", "Username"
        WA_ID = "wa_id", "WhatsApp number"
        USER_ID = "user_id", "Business-scoped user id"
        PHONE = "phone", "Phone"
        MERGED = "merged", "Merged another lead"
        MARKETING = "marketing", "Marketing consent"

    lead = models.ForeignKey(
        "whatsapp_leads.Lead", on_delete=models.CASCADE, related_name="history", help_text="The lead."
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, help_text="What changed.")
    previous = models.CharField(max_length=255, blank=True, help_text="The value before the change.")
    current = models.CharField(max_length=255, blank=True, help_text="The value after the change.")
    detail = models.CharField(
        max_length=500, blank=True, help_text="Why, in words (Meta's detail when given)."
    )
    occurred_at = models.DateTimeField(
        null=True, blank=True, help_text="Meta's time of the change, when given."
    )
    webhook_event = models.ForeignKey(
        "whatsapp_leads.WebhookEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The webhook that reported it.",
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When we recorded it.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "lead history"
        indexes = [models.Index(fields=["kind", "previous"], name="wl_history_kind_previous")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.previous or '—'} -> {self.current or '—'}"
