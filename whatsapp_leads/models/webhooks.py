"""The inbox: every signed webhook exactly as it arrived, and what processing made of it."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..queueing import PROCESS_EVENT, publish, wake, wake_covered


class WebhookEventQuerySet(models.QuerySet):
    """The inbox's states, and the one way to hand events (back) to the workers.

    An event is *waiting* from its INSERT (``queued_at`` set in the same statement) until a worker
    finishes it. ``queued_at`` is cleared only when a publish failed, so "pending and never
    queued" means exactly "the broker did not take it" and is retried within seconds of the
    broker's return, without touching the healthy backlog. A failed event is queued again only
    when its failure was retryable (``next_attempt_at`` set) and that time has come.
    """

    def unqueued(self) -> WebhookEventQuerySet:
        """Pending events whose publish failed: nothing in the broker will ever run them."""
        return self.filter(status=WebhookEvent.Status.PENDING, queued_at__isnull=True)

    def stale(self, *, older_than: timedelta) -> WebhookEventQuerySet:
        """Pending events queued longer ago than ``older_than``: queued but never finished."""
        return self.filter(status=WebhookEvent.Status.PENDING, queued_at__lte=timezone.now() - older_than)

    def due_retries(self) -> WebhookEventQuerySet:
        """Failed events whose retryable failure's backoff has run out."""
        return self.filter(status=WebhookEvent.Status.FAILED, next_attempt_at__lte=timezone.now())

    def publish_new(self, event_id: int) -> bool:
        """Hand a just-stored event to the workers; a refusal clears ``queued_at`` for the fast retry.

        The task drains the whole inbox, so a wake this process sent moments ago already covers
        the event (see ``queueing.wake_covered``): under load most webhooks publish nothing, and
        the row, committed before this runs, is what the worker finds.
        """
        if wake_covered():
            return True
        if wake(PROCESS_EVENT, event_id, what=f"webhook event {event_id}"):
            return True
        self.filter(pk=event_id, status=WebhookEvent.Status.PENDING).update(queued_at=None)
        return False

    def requeue(self, *, limit: int | None = None, give_up_after: int = 3) -> int:
        """Make these events pending and publish each; returns how many the broker took.

        The rows are marked first (pending, queued now, no retry planned), so a worker that runs
        a task at once finds the event in the state the task expects; a refused publish clears
        ``queued_at`` again, which puts the event back in ``unqueued()``. After ``give_up_after``
        refusals in a row the broker is taken to be down and the rest are not tried, so a sweep
        during an outage never waits out one connection timeout per event.
        """
        # A dropped body (retention, erasure) has nothing left to run: it keeps its outcome.
        kept = self.filter(body_dropped_at__isnull=True)
        ids = list(kept.order_by("received_at", "pk").values_list("pk", flat=True)[:limit])
        if not ids:
            return 0
        WebhookEvent.objects.filter(pk__in=ids).update(
            status=WebhookEvent.Status.PENDING, queued_at=timezone.now(), next_attempt_at=None
        )
        taken = streak = 0
        refused: list[int] = []
        for index, pk in enumerate(ids):
            if streak >= give_up_after:
                refused += ids[index:]
                break
            if publish(PROCESS_EVENT, pk, what=f"webhook event {pk}"):
                taken += 1
                streak = 0
            else:
                refused.append(pk)
                streak += 1
        if refused:
            WebhookEvent.objects.filter(pk__in=refused).update(queued_at=None)
        return taken


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
        null=True,
        blank=True,
        default=timezone.now,
        help_text="When it was last handed to the broker; empty while its publish has failed.",
    )
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Failed events only: when the retryable failure is tried again; empty when it will not be.",
    )
    processed_at = models.DateTimeField(null=True, blank=True, help_text="When processing last finished.")
    error = models.TextField(blank=True, help_text="Why the last attempt failed, for people.")
    traceback = models.TextField(blank=True, help_text="The last failure's traceback, for developers.")
    update_count = models.PositiveIntegerField(default=0, help_text="Updates parsed from the body.")
    redacted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When an erasure rewrote the body without a person's items: it is no longer the "
        "signed original, so its signature must not be re-checked.",
    )
    body_dropped_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the body was dropped (retention, or an erasure of the only person in it); "
        "the row and its outcome stay, and it is never processed again.",
    )

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        # The waiting states are partial indexes: an event leaves them when it is processed, so
        # that UPDATE writes no entry in them, and they stay the size of the backlog, not of
        # history. The drain's claim reads ``wl_event_pending`` in its own order (oldest first).
        indexes = [
            models.Index(
                fields=["received_at", "id"],
                name="wl_event_pending",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["queued_at"], name="wl_event_pending_queued", condition=Q(status="pending")),
            models.Index(fields=["received_at"], name="wl_event_failed", condition=Q(status="failed")),
            models.Index(
                fields=["next_attempt_at"],
                name="wl_event_retry_due",
                condition=Q(next_attempt_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} event #{self.pk} ({self.status})"

    @property
    def body_dropped(self) -> bool:
        return self.body_dropped_at is not None

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
