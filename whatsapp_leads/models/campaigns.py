"""Campaigns, their ads, and the sales reps who take their leads."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Campaign(models.Model):
    """A Click-to-WhatsApp campaign; routes the leads its ads bring."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"

    meta_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="Meta's campaign id; empty for campaigns made by hand.",
    )
    name = models.CharField(max_length=255, help_text="Campaign name as shown to staff.")
    is_active = models.BooleanField(
        default=True, help_text="Inactive campaigns still attribute, never route."
    )
    routing_strategy = models.CharField(
        max_length=20,
        choices=Strategy.choices,
        default=Strategy.ROUND_ROBIN,
        help_text="How new leads are shared among the campaign's active members.",
    )
    last_assigned_member = models.ForeignKey(
        "CampaignMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Round-robin cursor: the member who got the previous lead.",
    )
    fallback_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Gets the lead when no member is active; WHATSAPP_DEFAULT_OWNER when empty.",
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the row was created.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row last changed.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CampaignMember(models.Model):
    """A sales rep taking part in a campaign's routing."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="members", help_text="The campaign."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="whatsapp_campaign_memberships",
        help_text="The sales rep.",
    )
    is_active = models.BooleanField(default=True, help_text="Only active members receive new leads.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the rep joined the campaign.")

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="wl_member_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.campaign}"


class Ad(models.Model):
    """An ad that sent people to WhatsApp, known by the referral's ``source_id``."""

    meta_id = models.CharField(max_length=64, unique=True, help_text="Meta's ad id (referral source_id).")
    name = models.CharField(max_length=255, blank=True, help_text="Ad name, once known.")
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ads",
        help_text="The campaign the ad belongs to, once known.",
    )
    headline = models.CharField(max_length=500, blank=True, help_text="Ad headline from the latest referral.")
    source_url = models.URLField(max_length=1000, blank=True, help_text="Ad URL from the latest referral.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When we first saw the ad.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row last changed.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or self.headline or f"Ad {self.meta_id}"
