"""Daily spend per ad, as the Marketing API's insights report it (in the ad account's currency)."""

from __future__ import annotations

from django.db import models


class AdSpend(models.Model):
    """One ad's delivery on one day (the ad account's day): spend, impressions, clicks, chats started.

    Keyed by Meta's ids, not only by our rows, because insights can name an ad no lead has come
    from yet; ``ad`` and ``campaign`` link it to our rows when they exist. Meta restates recent
    days, so a sync upserts by (ad, date).
    """

    ad_meta_id = models.CharField(max_length=64, help_text="Meta's ad id.")
    date = models.DateField(help_text="The day (ad account's time zone).")
    ad = models.ForeignKey(
        "whatsapp_leads.Ad", null=True, blank=True, on_delete=models.SET_NULL, related_name="spend",
        help_text="Our ad row, when known.",
    )  # fmt: skip
    campaign_meta_id = models.CharField(max_length=64, blank=True, help_text="Meta's campaign id.")
    campaign = models.ForeignKey(
        "whatsapp_leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="spend",
        help_text="Our campaign row, when known.",
    )  # fmt: skip
    account_id = models.CharField(max_length=64, blank=True, help_text="Meta ad account, act_<digits>.")
    spend = models.DecimalField(max_digits=14, decimal_places=4, default=0, help_text="Amount spent.")
    currency = models.CharField(max_length=3, blank=True, help_text="The ad account's currency.")
    impressions = models.PositiveBigIntegerField(default=0, help_text="Impressions.")
    clicks = models.PositiveBigIntegerField(default=0, help_text="Clicks.")
    conversations = models.PositiveBigIntegerField(
        default=0, help_text="Messaging conversations started (INSIGHTS_CONVERSATION_ACTION)."
    )
    synced_at = models.DateTimeField(help_text="When this row was last read from Meta.")

    class Meta:
        ordering = ["-date", "ad_meta_id"]
        verbose_name_plural = "ad spend"
        constraints = [models.UniqueConstraint(fields=["ad_meta_id", "date"], name="wl_adspend_once_per_day")]
        indexes = [models.Index(fields=["campaign", "date"], name="wl_adspend_campaign_date")]

    def __str__(self) -> str:
        return f"{self.ad_meta_id} {self.date}: {self.spend} {self.currency}"
