"""How fast and how much each side speaks: the response-time fields a lead and a conversation share,
and the record of a first-response SLA breach.

The figures are kept by the services as messages are stored (``services/engagement``), never
recomputed nightly, so a numbers page is an aggregate over indexed columns. Each time is stored
twice: on the wall clock and in business time (the owner's working hours in the business's time
zone), because managers judge a reply at 09:05 to a message sent at 23:00 as five minutes late,
not ten hours.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ResponseMetrics(models.Model):
    """Engagement figures of one thread, or of all a lead's threads together."""

    first_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the earliest message the person sent (Meta's clock)."
    )
    last_outbound_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of our latest message, automatic ones included."
    )
    outbound_count = models.PositiveIntegerField(
        default=0, help_text="Messages we sent, automatic greetings and echoes included."
    )
    first_response_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Wall-clock seconds from the first inbound message to the first answer written by "
        "a person; empty until answered.",
    )
    first_response_business_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The same in business seconds (only the owner's working hours count).",
    )
    last_response_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Wall-clock seconds the latest answer kept the person waiting."
    )
    last_response_business_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="The same in business seconds."
    )
    response_count = models.PositiveIntegerField(
        default=0,
        help_text="Answers written by a person that ended a wait (average = total / count).",
    )
    response_seconds_total = models.PositiveBigIntegerField(
        default=0, help_text="Sum of the wall-clock waits those answers ended."
    )
    response_business_seconds_total = models.PositiveBigIntegerField(
        default=0, help_text="Sum of the same waits in business seconds."
    )

    class Meta:
        abstract = True

    @property
    def average_response_seconds(self) -> int | None:
        return round(self.response_seconds_total / self.response_count) if self.response_count else None

    @property
    def average_response_business_seconds(self) -> int | None:
        if not self.response_count:
            return None
        return round(self.response_business_seconds_total / self.response_count)


class SlaBreach(models.Model):
    """A lead that nobody answered within its campaign's first-response SLA, and what was done.

    One row per (lead, SLA clock start, level): the unique constraint is what makes two checkers
    racing on the same overdue lead apply the breach once. A re-assignment starts a fresh clock
    (a new ``started_at``), so the new owner's breach is a new row.
    """

    class Action(models.TextChoices):
        NOTIFIED = "notified", "Owner notified"
        ESCALATED = "escalated", "Managers notified"
        REASSIGNED = "reassigned", "Re-assigned"
        NOBODY = "nobody", "Nobody else eligible"

    lead = models.ForeignKey(
        "whatsapp_leads.Lead", on_delete=models.CASCADE, related_name="sla_breaches", help_text="The lead."
    )
    campaign = models.ForeignKey(
        "whatsapp_leads.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sla_breaches",
        help_text="The campaign whose SLA was missed.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who owned the lead when the SLA ran out (empty: unassigned).",
    )
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who the lead was re-assigned to, for a re-assigning SLA.",
    )
    sla = models.DurationField(help_text="The SLA that was missed, as the campaign had it then.")
    clock = models.CharField(max_length=10, help_text="business or wall: how the SLA was counted.")
    level = models.PositiveSmallIntegerField(
        default=1, help_text="1 for the breach itself; 2 when it was escalated to the managers."
    )
    started_at = models.DateTimeField(
        help_text="When this SLA clock started: the first inbound message, or the re-assignment."
    )
    due_at = models.DateTimeField(help_text="When the answer was due.")
    action = models.CharField(max_length=12, choices=Action.choices, help_text="What was done.")
    detail = models.CharField(max_length=255, blank=True, help_text="What was done, in words.")
    breached_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="When the breach was applied."
    )

    class Meta:
        ordering = ["-breached_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "started_at", "level"], name="wl_sla_breach_once"),
        ]
        indexes = [models.Index(fields=["campaign", "breached_at"], name="wl_sla_breach_campaign_at")]

    def __str__(self) -> str:
        return f"SLA breach on {self.lead_id}: {self.get_action_display()}"
