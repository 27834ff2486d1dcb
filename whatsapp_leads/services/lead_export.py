"""Leads as CSV, one row at a time: the admin's export and ``GET /whatsapp/api/leads/?format=csv``.

The rows are read with ``QuerySet.iterator()`` in chunks and written line by line, so 100,000 leads
never sit in memory; the caller wraps ``csv_lines`` in a ``StreamingHttpResponse``. The queryset
comes in already narrowed by the row rule and the filters: exporting never widens what a user sees.
Text a person typed is prefixed with ``'`` when a spreadsheet would read it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from ..models import Lead, LeadStatusChange

CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The ad URL's UTM parameters and the first message's reference code (services/utm.py).
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "ref")
TRACKED = (Lead.Status.CONTACTED, Lead.Status.QUALIFIED, Lead.Status.WON, Lead.Status.LOST)
HEADER = [
    "id", "name", "phone", "wa_id", "email", "city", "status", "owner", "campaign", "campaign_id",
    "ad_id", "ad_name", "created_at", "first_message_at", "first_message", "last_message_at",
    "first_reply_at", "first_response_seconds", "follow_up_at", "follow_up_note",
    *[f"{status}_at" for status in TRACKED],
    "deal_value", "deal_currency", *UTM_KEYS, "other_parameters", "country", "location_source",
    "latitude", "longitude", "carrier",
]  # fmt: skip


def _safe(text: Any) -> str:
    value = "" if text is None else str(text)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def export_queryset(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """The rows with what the CSV needs joined in, and the latest date of each tracked status."""
    annotations = {
        f"{status}_at": Subquery(
            LeadStatusChange.objects.filter(lead=OuterRef("pk"), new_status=status)
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        for status in TRACKED
    }
    return queryset.select_related("campaign", "ad", "owner").annotate(**annotations)


def _ad_loop(lead: Lead) -> list[str]:
    """Deal, UTM and where the person is; any other URL parameters as one query string."""
    utm = lead.utm if isinstance(lead.utm, dict) else {}
    where = lead.location if isinstance(lead.location, dict) else {}
    others = "&".join(f"{k}={v}" for k, v in utm.items() if k not in UTM_KEYS)
    return [
        "" if lead.deal_value is None else str(lead.deal_value), lead.deal_currency,
        *(_safe(utm.get(key, "")) for key in UTM_KEYS), _safe(others), lead.country,
        _safe(where.get("source", "")), _safe(where.get("latitude", "")), _safe(where.get("longitude", "")),
        _safe(where.get("carrier", "")),
    ]  # fmt: skip


def row_of(lead: Lead) -> list[str]:
    response = "" if lead.first_response_seconds is None else str(lead.first_response_seconds)
    if not response and lead.first_reply_at and lead.first_message_at:  # rows the metrics never counted
        response = str(max(int((lead.first_reply_at - lead.first_message_at).total_seconds()), 0))
    owner = lead.owner.get_username() if lead.owner is not None else ""
    return [
        str(lead.pk), _safe(lead.name), lead.phone, lead.wa_id or "", _safe(lead.email), _safe(lead.city),
        lead.status, _safe(owner), _safe(lead.campaign.name if lead.campaign else ""),
        (lead.campaign.meta_id or "") if lead.campaign else "", lead.ad.meta_id if lead.ad else lead.source_ad_id,
        _safe(lead.ad.name if lead.ad else ""), _when(lead.created_at), _when(lead.first_message_at),
        _safe(lead.first_message), _when(lead.last_message_at), _when(lead.first_reply_at), response,
        _when(lead.follow_up_at), _safe(lead.follow_up_note),
        *[_when(getattr(lead, f"{status}_at")) for status in TRACKED],
        *_ad_loop(lead),
    ]  # fmt: skip


def csv_lines(queryset: QuerySet[Lead]) -> Iterator[str]:
    """The header, then one CSV line per lead, read from the database in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(HEADER)
    for lead in export_queryset(queryset).iterator(chunk_size=CHUNK):
        yield line(row_of(lead))
