"""Daily spend per ad as read from the Marketing API insights: read-only (Meta is the source)."""

from __future__ import annotations

from django.contrib import admin

from ..models import AdSpend
from .webhooks import ReadOnlyAdmin


@admin.register(AdSpend)
class AdSpendAdmin(ReadOnlyAdmin):
    list_display = (
        "date",
        "ad_meta_id",
        "ad",
        "campaign",
        "spend",
        "currency",
        "impressions",
        "clicks",
        "conversations",
    )
    list_filter = ("date", ("campaign", admin.RelatedOnlyFieldListFilter), "currency")
    search_fields = ("ad_meta_id", "campaign_meta_id", "ad__name", "campaign__name")
    list_select_related = ("ad", "campaign")
    date_hierarchy = "date"
