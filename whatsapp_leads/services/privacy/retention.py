"""Retention: personal data kept no longer than its purpose needs (DPDP Act s.8(7)).

Three settings, each empty by default (kept forever) and checked at deploy (``checks``):
- ``RAW_BODY_RETENTION_DAYS``: a webhook body is dropped that many days after it was processed
  (processed, or failed for good); the row, its outcome and its counts stay.
- ``MEDIA_RETENTION_DAYS``: a downloaded file is deleted from storage that many days after its
  download; the message stays, marked ``expired``.
- ``CLOSED_LEAD_RETENTION_DAYS``: a won or lost lead with no message for that many days is erased
  (``erase_lead``, trigger ``retention``), which anonymises it and removes its chats and files.

Work is done in batches of ``RETENTION_BATCH_SIZE``, each its own transaction, so a run over a
large backlog holds no long lock and a crash keeps the batches already done. ``dry_run`` counts
what would go and changes nothing. The beat job (``whatsapp_leads.apply_retention``) and
``manage.py whatsapp_retention`` both call ``apply_retention``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ...conf import app_settings
from ...models import ErasureRecord, Lead, Message, WebhookEvent
from .erasure import AlreadyErased, erase_lead

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
CLOSED = (Lead.Status.WON, Lead.Status.LOST)


@dataclass(slots=True)
class RetentionReport:
    """How many of each kind went (or, in a dry run, would go); None where the rule is off."""

    dry_run: bool = False
    bodies: int | None = None
    media: int | None = None
    leads: int | None = None
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"

        def part(n: int | None, what: str) -> str:
            return f"{what}: kept forever (not configured)" if n is None else f"{n} {what} {verb} removed"

        return "; ".join(
            (
                part(self.bodies, "webhook bodies"),
                part(self.media, "media files"),
                part(self.leads, "closed leads"),
            )
        )


def _days(key: str) -> int | None:
    value = getattr(app_settings, key)
    return None if value in (None, "") else int(value)


def expired_bodies(now: datetime, days: int):
    """Events finished (processed, or failed with no retry planned) more than ``days`` ago, body kept."""
    finished = Q(status=WebhookEvent.Status.PROCESSED) | Q(
        status=WebhookEvent.Status.FAILED, next_attempt_at__isnull=True
    )
    return WebhookEvent.objects.filter(
        finished, body_dropped_at__isnull=True, processed_at__lt=now - timedelta(days=days)
    )


def expired_media(now: datetime, days: int):
    return Message.objects.filter(
        media_status=Message.MediaStatus.DOWNLOADED, media_downloaded_at__lt=now - timedelta(days=days)
    ).exclude(media_file="")


def expired_leads(now: datetime, days: int):
    """Won or lost leads whose latest message (else their creation) is more than ``days`` old."""
    return (
        Lead.objects.filter(status__in=CLOSED, erased_at__isnull=True)
        .annotate(_quiet_since=Coalesce(F("last_message_at"), F("created_at")))
        .filter(_quiet_since__lt=now - timedelta(days=days))
    )


def _batches(queryset, size: int):
    """Primary keys of ``queryset`` in batches, re-read each time (rows done drop out of it)."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        last = ids[-1]
        yield ids


def _purge_bodies(now: datetime, days: int, *, size: int, progress: Progress) -> int:
    done = 0
    for ids in _batches(expired_bodies(now, days), size):
        with transaction.atomic():
            done += WebhookEvent.objects.filter(pk__in=ids, body_dropped_at__isnull=True).update(
                body=b"", body_dropped_at=timezone.now()
            )
        progress(f"webhook bodies: {done} dropped")
    return done


def _purge_media(now: datetime, days: int, *, size: int, progress: Progress) -> int:
    done = 0
    for ids in _batches(expired_media(now, days), size):
        for message in Message.objects.filter(pk__in=ids).only("pk", "media_file"):
            name = message.media_file.name or ""
            message.media_file.storage.delete(name)  # file first: a row never outlives its promise
            Message.objects.filter(pk=message.pk).update(
                media_file="", media_status=Message.MediaStatus.EXPIRED
            )
            done += 1
        progress(f"media files: {done} deleted")
    return done


def _erase_leads(now: datetime, days: int, *, size: int, progress: Progress, report: RetentionReport) -> int:
    done = 0
    reason = f"Retention: closed (won or lost) with no message for {days} days"
    for ids in _batches(expired_leads(now, days), size):
        for lead in Lead.objects.filter(pk__in=ids):
            try:
                erase_lead(lead, reason, None, trigger=ErasureRecord.Trigger.RETENTION)
            except AlreadyErased:
                continue
            except Exception as exc:  # one lead's failure must not stop the rest; reported, retried next run
                logger.exception("retention: erasing lead %s failed", lead.pk)
                report.errors.append(f"lead #{lead.pk}: {type(exc).__name__}: {exc}")
                continue
            done += 1
        progress(f"closed leads: {done} erased")
    return done


def apply_retention(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> RetentionReport:
    """Apply every configured retention period as of ``now`` (default: the clock)."""
    now = now or timezone.now()
    size = batch_size or app_settings.RETENTION_BATCH_SIZE
    say = progress or (lambda line: logger.info("retention: %s", line))
    report = RetentionReport(dry_run=dry_run)
    body_days = _days("RAW_BODY_RETENTION_DAYS")
    media_days = _days("MEDIA_RETENTION_DAYS")
    lead_days = _days("CLOSED_LEAD_RETENTION_DAYS")
    if dry_run:
        report.bodies = None if body_days is None else expired_bodies(now, body_days).count()
        report.media = None if media_days is None else expired_media(now, media_days).count()
        report.leads = None if lead_days is None else expired_leads(now, lead_days).count()
        return report
    # Leads first: erasing one rewrites its bodies, which the body rule would otherwise drop twice.
    if lead_days is not None:
        report.leads = _erase_leads(now, lead_days, size=size, progress=say, report=report)
    if body_days is not None:
        report.bodies = _purge_bodies(now, body_days, size=size, progress=say)
    if media_days is not None:
        report.media = _purge_media(now, media_days, size=size, progress=say)
    return report
