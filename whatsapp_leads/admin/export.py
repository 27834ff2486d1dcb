"""Export leads as CSV from the lead list: who, status, deal, where from (UTM, reference code), where.

One row per lead the user may see (the action runs on the changelist's queryset, which already
holds the row-level rule). Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@``) are prefixed with a quote: the text came from WhatsApp users and ad URLs.
"""

from __future__ import annotations

import csv
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse

from ..models import Lead

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "ref")
COLUMNS = (
    "id", "name", "phone", "status", "owner", "campaign", "source_ad_id", "deal_value", "deal_currency",
    *UTM_KEYS, "other_parameters", "country", "city", "location_source", "latitude", "longitude", "carrier",
    "created_at",
)  # fmt: skip


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _row(lead: Lead) -> list[str]:
    utm = lead.utm if isinstance(lead.utm, dict) else {}
    where = lead.location if isinstance(lead.location, dict) else {}
    others = "&".join(f"{k}={v}" for k, v in utm.items() if k not in UTM_KEYS)
    values = [
        lead.pk, lead.name, lead.phone, lead.status, lead.owner.get_username() if lead.owner else "",
        lead.campaign.name if lead.campaign else "", lead.source_ad_id, lead.deal_value, lead.deal_currency,
        *(utm.get(k, "") for k in UTM_KEYS), others, lead.country, lead.city, where.get("source", ""),
        where.get("latitude", ""), where.get("longitude", ""), where.get("carrier", ""), lead.created_at.isoformat(),
    ]  # fmt: skip
    return [_cell(v) for v in values]


def export_csv(queryset: QuerySet[Lead]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="whatsapp-leads.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 (Hindi names) only with a BOM
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    for lead in queryset.select_related("owner", "campaign").order_by("pk").iterator(chunk_size=2000):
        writer.writerow(_row(lead))
    return response
