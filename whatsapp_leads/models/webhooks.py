"""The inbox: every signed webhook exactly as it arrived, and what processing made of it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WebhookEvent(models.Model):
    """One signed POST from a provider, stored before we answer it.

    The raw bytes are kept (not re-serialised JSON) so the signature can be re-checked and a
    parser fix can be replayed over history.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=20, default="meta", help_text="Which provider posted it.")
    body = models.BinaryField(help_text="The raw request body, byte for byte as signed.")
    headers = models.JSONField(default=dict, blank=True, help_text="Selected request headers.")
    remote_addr = models.GenericIPAddressField(null=True, blank=True, help_text="Sender's address.")
    received_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="When we stored it.")
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        help_text="pending until a worker has dealt with every update in it.",
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Processing attempts so far.")
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last handed to the broker."
    )
    processed_at = models.DateTimeField(null=True, blank=True, help_text="When processing last finished.")
    error = models.TextField(blank=True, help_text="Why the last attempt failed, for people.")
    traceback = models.TextField(blank=True, help_text="The last failure's traceback, for developers.")
    update_count = models.PositiveIntegerField(default=0, help_text="Updates parsed from the body.")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="wl_event_status_received")]

    def __str__(self) -> str:
        return f"{self.provider} event #{self.pk} ({self.status})"

    @property
    def body_bytes(self) -> bytes:
        return bytes(self.body or b"")

    @property
    def body_text(self) -> str:
        return self.body_bytes.decode("utf-8", errors="replace")


class AccountEvent(models.Model):
    """A non-message update: webhook errors, template status, account and quality changes."""

    webhook_event = models.ForeignKey(
        WebhookEvent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account_events",
        help_text="The webhook it came in.",
    )
    field = models.CharField(max_length=64, help_text="Meta's webhook field, e.g. account_update.")
    event = models.CharField(max_length=64, blank=True, help_text="The event name or error code.")
    waba_id = models.CharField(max_length=64, blank=True, help_text="WhatsApp Business Account id.")
    summary = models.CharField(max_length=500, blank=True, help_text="One readable line.")
    payload = models.JSONField(default=dict, help_text="The change's value as received.")
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time for it, when given.")
    fingerprint = models.CharField(
        max_length=64, unique=True, help_text="Hash of the notice; a redelivered notice is stored once."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When we recorded it.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary or f"{self.field} {self.event}".strip()
