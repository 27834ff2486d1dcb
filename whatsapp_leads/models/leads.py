"""Leads: one per WhatsApp user, with first-touch attribution and an owner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from .engagement import ResponseMetrics


class Lead(ResponseMetrics):
    """A person who wrote to the business on WhatsApp.

    Identity is the business-scoped user id when Meta sends one, else the WhatsApp id; a lead
    may carry both, and each is unique when present, so copies processed at once collide in the
    database instead of creating twins.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    # NULL, not "", for an absent identity: each is unique only when present.
    wa_id = models.CharField(max_length=32, null=True, blank=True, help_text="WhatsApp id (phone digits).")  # noqa: DJ001
    user_id = models.CharField(  # noqa: DJ001
        max_length=160, null=True, blank=True, help_text="Business-scoped user id (BSUID), e.g. US.1349…"
    )
    username = models.CharField(max_length=100, blank=True, help_text="WhatsApp username, when shared.")
    phone = models.CharField(max_length=20, blank=True, db_index=True, help_text="Phone in E.164, with +.")
    name = models.CharField(max_length=255, blank=True, help_text="WhatsApp profile name.")
    email = models.EmailField(blank=True, help_text="Email address, e.g. from a WhatsApp Flow form.")
    city = models.CharField(max_length=120, blank=True, help_text="City, e.g. from a WhatsApp Flow form.")
    extra = models.JSONField(
        default=dict,
        blank=True,
        help_text="Form answers mapped by FLOW_FIELD_MAP to names that are not Lead fields.",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.NEW, db_index=True, help_text="Sales stage."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="whatsapp_leads",
        help_text="The sales rep responsible for the lead.",
    )
    campaign = models.ForeignKey(
        "whatsapp_leads.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text="Campaign of the first ad that brought the lead.",
    )
    ad = models.ForeignKey(
        "whatsapp_leads.Ad",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text="First ad that brought the lead.",
    )
    source_ad_id = models.CharField(max_length=64, blank=True, db_index=True, help_text="Referral source_id.")
    ctwa_clid = models.CharField(
        max_length=512, blank=True, help_text="Click-to-WhatsApp click id, for the Conversions API."
    )
    referral = models.JSONField(default=dict, blank=True, help_text="First-touch referral as received.")
    first_touch_at = models.DateTimeField(
        null=True, blank=True, help_text="Meta's time of the message that carried the first-touch referral."
    )
    first_message = models.TextField(blank=True, help_text="Readable text of the earliest message.")
    first_message_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of that message.")
    last_message_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Meta's time of the latest inbound message."
    )
    marketing_opt_out = models.BooleanField(default=False, help_text="The user stopped marketing messages.")
    marketing_opt_out_at = models.DateTimeField(null=True, blank=True, help_text="When consent last changed.")
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When the person's data was erased (services.privacy); the row stays, without identity, "
        "so campaign numbers keep counting it.",
    )
    # --- ad loop: deal value, UTM, location ---------------------------------------------------------
    deal_value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Value of the sale when won (sent with Meta's Purchase event, counted as revenue).",
    )
    deal_currency = models.CharField(
        max_length=3,
        blank=True,
        help_text="ISO 4217 currency of the deal value, e.g. INR (empty: DEAL_CURRENCY).",
    )
    utm = models.JSONField(
        default=dict,
        blank=True,
        help_text="utm_* and other query parameters of the ad's URL, and the reference code of the first message.",
    )
    country = models.CharField(
        max_length=2,
        blank=True,
        db_index=True,
        help_text="ISO 3166 country: shared location, else the number's.",
    )
    location = models.JSONField(
        default=dict,
        blank=True,
        help_text="Where the person is: a shared location or a Flow's city, else what the number tells "
        "(city for landlines, carrier for mobiles); 'source' says which.",
    )
    # --- end ad loop ----------------------------------------------------------------------------------
    # --- the sales workspace: what the inbox sorts and shows, kept current by services/lead_activity
    awaiting_reply_since = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Meta's time of the earliest inbound message nobody has answered yet; empty when "
        "we spoke last (automatic greetings do not count as an answer).",
    )
    unread_count = models.PositiveIntegerField(
        default=0, help_text="Inbound messages since the owner last opened the lead."
    )
    last_activity_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the latest message either way (inbound or outbound)."
    )
    first_reply_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Time of our first answer written by a person (first response time = this - first_message_at).",
    )
    last_reply_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of our latest answer written by a person (not a greeting)."
    )
    last_message_preview = models.CharField(
        max_length=200, blank=True, help_text="The start of the latest message's readable text."
    )
    last_message_direction = models.CharField(
        max_length=8, blank=True, help_text="Who sent the latest message: inbound or outbound."
    )
    # --- engagement and the first-response SLA (services/engagement, services/sla) ---------------
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the latest message the person sent (Meta's clock)."
    )
    inbound_count = models.PositiveIntegerField(default=0, help_text="Messages the person sent.")
    sla_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current first-response SLA clock started (first inbound message, or the "
        "latest automatic re-assignment); empty when no SLA applies.",
    )
    sla_due_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When the first answer is due under the campaign's SLA; empty once answered, "
        "breached or without an SLA. The checker scans this column.",
    )
    sla_breached_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lead last breached its first-response SLA."
    )
    follow_up_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When to get back to the lead; empty for none."
    )
    follow_up_note = models.CharField(max_length=255, blank=True, help_text="What the follow-up is for.")
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, help_text="When the lead was created."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="When the lead last changed.")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("view_all_leads", "Can view every WhatsApp lead, not only their own")]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id"], condition=Q(user_id__isnull=False), name="wl_lead_unique_user_id"
            ),
            models.UniqueConstraint(
                fields=["wa_id"], condition=Q(wa_id__isnull=False), name="wl_lead_unique_wa_id"
            ),
            models.CheckConstraint(
                # An erased lead keeps its row for the numbers but no identity at all.
                condition=Q(user_id__isnull=False) | Q(wa_id__isnull=False) | Q(erased_at__isnull=False),
                name="wl_lead_has_identity",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="wl_lead_owner_status"),
            models.Index(fields=["owner", "awaiting_reply_since"], name="wl_lead_owner_awaiting"),
            models.Index(fields=["owner", "-last_activity_at"], name="wl_lead_owner_activity"),
            # the admin's and the API's UTM filters compare exactly these expressions
            models.Index(KeyTextTransform("utm_source", "utm"), name="wl_lead_utm_source"),
            models.Index(KeyTextTransform("utm_campaign", "utm"), name="wl_lead_utm_campaign"),
        ]

    def __str__(self) -> str:
        if self.erased_at is not None:
            return f"Erased lead #{self.pk}"
        return self.name or self.phone or self.user_id or self.wa_id or f"Lead #{self.pk}"


class LeadAssignment(models.Model):
    """Who got a lead, when and why: the audit trail behind ``Lead.owner``."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="assignments", help_text="The lead."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The new owner (empty: nobody could take it).",
    )
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The owner before this assignment.",
    )
    campaign = models.ForeignKey(
        "whatsapp_leads.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Campaign whose rule chose the owner.",
    )
    reason = models.CharField(max_length=255, help_text="Why this owner, in words.")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person who re-assigned it; empty when automatic.",
    )
    # Not auto_now_add: routing passes its own clock, so daily caps and "longest since the last
    # lead" are counted on the same time line the rule was evaluated on.
    created_at = models.DateTimeField(default=timezone.now, help_text="When it happened.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "created_at"], name="wl_assignment_owner_at")]

    def __str__(self) -> str:
        return f"{self.lead} -> {self.owner} ({self.reason})"


class Inbox(Lead):
    """The rep's inbox in the admin (``/admin/whatsapp_leads/inbox/``): the same rows as leads."""

    class Meta:
        proxy = True
        verbose_name = "inbox"
        verbose_name_plural = "Inbox"
        default_permissions = ()
