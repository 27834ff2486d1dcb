"""The lead list's UTM filters: by ``utm_source`` and by ``utm_campaign``, offering the values present.

The values offered come from the leads the user may see (the admin's own queryset, already scoped
by ``permissions.visible_leads``), so a rep is never shown another rep's campaign names; the
query is the indexed one of ``services.utm_filter``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import Lead
from ..services import utm_filter


class UtmFilter(admin.SimpleListFilter):
    """One UTM key; subclasses set ``key`` (also the URL parameter) and ``title``."""

    key = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        visible = model_admin.get_queryset(request)
        return [(value, value) for value in utm_filter.values_present(visible, self.key)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        value = self.value()
        return utm_filter.filter_by(queryset, self.key, value) if value else queryset


class UtmSourceFilter(UtmFilter):
    title = "UTM source"
    key = parameter_name = "utm_source"


class UtmCampaignFilter(UtmFilter):
    title = "UTM campaign"
    key = parameter_name = "utm_campaign"
