"""Changing a lead's sales stage, with the change recorded (old, new, who, where).

Every path that changes ``Lead.status`` (the lead page, the quick buttons, the bulk action, the
REST API) records a ``LeadStatusChange`` here, so the lead's history tells the whole story.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import Lead, LeadStatusChange

Source = LeadStatusChange.Source


def record_change(
    lead: Lead,
    *,
    old: str,
    new: str,
    by: Any = None,
    source: str = Source.ADMIN,
    deal_value: Decimal | None = None,
    deal_currency: str = "",
) -> None:
    """Write the history row for a change already applied to ``lead`` (nothing when unchanged)."""
    if old == new:
        return
    LeadStatusChange.objects.create(
        lead=lead,
        old_status=old,
        new_status=new,
        changed_by=by if getattr(by, "pk", None) else None,
        source=source,
        deal_value=deal_value,
        deal_currency=deal_currency[:3].upper() if deal_value is not None else "",
        created_at=timezone.now(),
    )


def change_status(
    lead: Lead,
    *,
    status: str,
    by: Any = None,
    source: str = Source.ADMIN,
    deal_value: Decimal | None = None,
    deal_currency: str = "",
) -> bool:
    """Set the status under the lead's row lock and record it; False when it already had it."""
    if status not in Lead.Status.values:
        raise ValueError(f"unknown status {status!r}")
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        old = locked.status
        if old == status:
            lead.status = status
            return False
        locked.status = status
        fields = ["status", "updated_at"]
        if status == Lead.Status.WON and deal_value is not None:
            # The lead's deal is what the Conversions API's Purchase and the revenue figures read.
            locked.deal_value = deal_value
            locked.deal_currency = (deal_currency or locked.deal_currency or "")[:3].upper()
            fields += ["deal_value", "deal_currency"]
        locked.save(update_fields=fields)
        record_change(
            locked, old=old, new=status, by=by, source=source,
            deal_value=deal_value, deal_currency=deal_currency,
        )  # fmt: skip
    lead.status = status
    if status == Lead.Status.WON and deal_value is not None:
        lead.deal_value, lead.deal_currency = locked.deal_value, locked.deal_currency
    return True
