"""The outbox: record each (lead, event) once, queue it, find the ones a lost task left behind.

``record_due`` is the stage trigger. It runs after the lead's transaction commits (never for a
rolled-back lead) and may run any number of times for the same state: the unique ``event_id``
(the lead, the event and, for a win, which win) lets exactly one row through, so redelivered
webhooks, two workers and an admin saving twice all end in one event, while a lead reopened and
won again is a second sale with a second ``Purchase`` (``mapping.wins``). A lead without ``ctwa_clid`` gets its row too, as "not attributable", so
staff see why Meta never heard of it; such a row is never sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ...conf import app_settings
from ...models import ConversionEvent, Lead
from ...queueing import SEND_CONVERSION, publish
from . import mapping

logger = logging.getLogger(__name__)

# A pending row nobody touched for this long lost its task (broker outage, worker crash).
LOST_AFTER = timedelta(minutes=2)
TRIGGER_FIELDS = frozenset({"status", "referral", "ctwa_clid", "deal_value"})
Status = ConversionEvent.Status


def deal_currency(lead: Lead) -> str:
    return (lead.deal_currency or app_settings.DEAL_CURRENCY or "").upper()


def purchase_value(lead: Lead) -> tuple[Decimal, str]:
    """The deal's value (0 when nobody gave one) and currency, as Meta's Purchase needs both."""
    return (lead.deal_value if lead.deal_value is not None else Decimal("0")), deal_currency(lead)


def _value(lead: Lead, *, event_name: str) -> tuple[Decimal | None, str]:
    return purchase_value(lead) if event_name == mapping.PURCHASE else (None, "")


def is_latest_win(row: ConversionEvent, lead: Lead) -> bool:
    """Whether ``row`` is the event of the lead's current win (so the lead's deal is its deal)."""
    won = mapping.wins(lead)
    return bool(won) and row.event_id == mapping.event_id(lead, event_name=row.event_name, win=won[-1].number)


def _occurrences(lead: Lead, *, stage: str, event_name: str) -> list[tuple[str, Decimal | None, str, Any]]:
    """(event_id, value, currency, event_time) of each time the stage was reached: once, or once per win.

    The latest win carries the lead's deal; an earlier win whose event was never recorded (the
    lead was reopened before the trigger ran) carries the deal given with it, when one was.
    """
    if stage != Lead.Status.WON:
        value, currency = _value(lead, event_name=event_name)
        return [(mapping.event_id(lead, event_name=event_name), value, currency,
                 mapping.event_time(lead, stage=stage))]  # fmt: skip
    won = mapping.wins(lead)
    found = []
    for win in won:
        value, currency = _value(lead, event_name=event_name)
        if win.number < len(won) and value is not None and win.deal_value is not None:
            value, currency = win.deal_value, (win.deal_currency or currency).upper()
        at = win.at or mapping.event_time(lead, stage=stage)
        found.append((mapping.event_id(lead, event_name=event_name, win=win.number), value, currency, at))
    return found


def record_due(lead_id: int) -> list[ConversionEvent]:
    """Create the rows the lead's state calls for and queue the sendable ones; returns the new rows."""
    lead = Lead.objects.filter(pk=lead_id).first()
    # An erased person is never reported to Meta again (and the erasure's own save must not
    # bring back the rows it has just deleted).
    if lead is None or lead.erased_at is not None or not mapping.enabled():
        return []
    existing = set(lead.conversion_events.values_list("event_id", flat=True))
    created: list[ConversionEvent] = []
    for stage, name in mapping.due_events(lead):
        for event_id, value, currency, at in _occurrences(lead, stage=stage, event_name=name):
            if event_id in existing:
                continue
            row = ConversionEvent(
                lead=lead,
                event_name=name,
                stage=stage,
                event_id=event_id,
                event_time=at,
                status=Status.PENDING if lead.ctwa_clid else Status.NOT_ATTRIBUTABLE,
                error=""
                if lead.ctwa_clid
                else "The lead has no ctwa_clid (organic chat or a WhatsApp Status ad).",
                value=value,
                currency=currency,
            )
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue  # another trigger recorded it first (event_id is unique)
            created.append(row)
    for row in created:
        if row.status == Status.PENDING:
            publish(SEND_CONVERSION, row.pk, what=f"the {row.event_name} event of lead {lead.pk}")
    return created


def lead_saved(
    sender: Any, instance: Lead, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """``post_save`` receiver: after commit, record what the lead's new state calls for."""
    if kwargs.get("raw") or instance.erased_at is not None:
        return
    if not created and update_fields is not None and not (TRIGGER_FIELDS & set(update_fields)):
        return
    if not mapping.enabled():
        return
    transaction.on_commit(partial(record_due, instance.pk))


def resend(rows: Any) -> int:
    """Send again: failed rows, and not-attributable ones whose lead has a ctwa_clid by now."""
    count = 0
    for row in rows.select_related("lead"):
        if row.status == Status.SENT or (row.status == Status.NOT_ATTRIBUTABLE and not row.lead.ctwa_clid):
            continue
        ConversionEvent.objects.filter(pk=row.pk).update(
            status=Status.PENDING, attempts=0, next_attempt_at=None, error="", updated_at=timezone.now()
        )
        publish(SEND_CONVERSION, row.pk, what=f"the re-send of conversion event {row.pk}")
        count += 1
    return count


def queue_lost(*, limit: int = 200) -> int:
    """Beat job: queue pending rows that are due and untouched for LOST_AFTER; each is leased."""
    now = timezone.now()
    due = ConversionEvent.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=Status.PENDING,
        updated_at__lte=now - LOST_AFTER,
    )
    ids = list(due.order_by("created_at").values_list("pk", flat=True)[:limit])
    ConversionEvent.objects.filter(pk__in=ids).update(updated_at=now)  # lease: not queued again at once
    return sum(publish(SEND_CONVERSION, pk, what=f"conversion event {pk}") for pk in ids)
