"""Message templates synced from the WhatsApp Business Account, and the shared send-rate windows."""

from __future__ import annotations

from django.db import models


class MessageTemplate(models.Model):
    """One template in one language, as Meta last described it (sync or status webhook)."""

    class Category(models.TextChoices):
        MARKETING = "MARKETING", "Marketing"
        UTILITY = "UTILITY", "Utility"
        AUTHENTICATION = "AUTHENTICATION", "Authentication"

    waba_id = models.CharField(max_length=64, help_text="WhatsApp Business Account the template belongs to.")
    template_id = models.CharField(max_length=64, blank=True, db_index=True, help_text="Meta's template id.")
    name = models.CharField(max_length=512, help_text="Template name ([a-z0-9_]).")
    language = models.CharField(max_length=16, help_text="Language code, e.g. en_US.")
    category = models.CharField(max_length=32, blank=True, help_text="MARKETING, UTILITY or AUTHENTICATION.")
    status = models.CharField(
        max_length=32,
        blank=True,
        db_index=True,
        help_text="APPROVED, PENDING, REJECTED, PAUSED, ...; only APPROVED sends.",
    )
    quality = models.CharField(
        max_length=16, blank=True, help_text="Quality score: GREEN, YELLOW, RED or UNKNOWN."
    )
    parameter_format = models.CharField(
        max_length=16, blank=True, help_text="POSITIONAL ({{1}}) or NAMED ({{first_name}})."
    )
    components = models.JSONField(default=list, blank=True, help_text="Meta's components as synced.")
    parameters = models.JSONField(
        default=list,
        blank=True,
        help_text="The parameters a send must fill: [{component, name, example}] in text order.",
    )
    rejected_reason = models.CharField(
        max_length=64, blank=True, help_text="Why Meta rejected it, if it did."
    )
    synced_at = models.DateTimeField(null=True, blank=True, help_text="When Meta last described it to us.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row last changed.")

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["waba_id", "name", "language"], name="wl_template_unique_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"


class SendRateWindow(models.Model):
    """The last second of sends through one business number, for workers without Redis.

    Each grant appends its time; a worker holding the row lock drops times older than a second
    and grants only while fewer than ``SEND_RATE_PER_NUMBER`` remain.
    """

    phone_number_id = models.CharField(max_length=64, unique=True, help_text="Our business number's id.")
    grants = models.JSONField(
        default=list, help_text="Epoch seconds of the sends granted in the last second."
    )

    def __str__(self) -> str:
        return f"send rate {self.phone_number_id}"
