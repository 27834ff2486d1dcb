"""Retention periods with fixed clocks: bodies, media and closed leads, in batches, and the dry run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from tests.support.factories import LeadFactory, MessageFactory, UserFactory, WebhookEventFactory
from tests.support.people import logged_in
from tests.support.privacy import files_under
from whatsapp_leads.models import ErasureRecord, Lead, Message, WebhookEvent
from whatsapp_leads.services.privacy.retention import apply_retention
from whatsapp_leads.tasks import apply_retention as retention_task

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BODY = b'{"object":"whatsapp_business_account","entry":[]}'
Status = WebhookEvent.Status


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


@pytest.fixture
def retention(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def configure(**periods):
        settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, **periods}

    return configure


def event(*, status=Status.PROCESSED, processed: float | None = 40, retry: bool = False) -> WebhookEvent:
    return WebhookEventFactory(
        body=BODY,
        status=status,
        processed_at=days_ago(processed) if processed is not None else None,
        next_attempt_at=NOW if retry else None,
    )


def test_nothing_is_removed_while_no_period_is_set(retention):
    old = event(processed=4000)

    report = apply_retention(now=NOW)

    assert (report.bodies, report.media, report.leads) == (None, None, None)
    assert "kept forever" in report.summary()
    old.refresh_from_db()
    assert old.body_bytes == BODY


def test_bodies_finished_longer_ago_than_the_period_are_dropped_and_their_rows_kept(retention):
    retention(RAW_BODY_RETENTION_DAYS=30)
    expired = event(processed=31)
    failed_for_good = event(status=Status.FAILED, processed=31)
    recent = event(processed=29)
    retrying = event(status=Status.FAILED, processed=31, retry=True)
    pending = event(status=Status.PENDING, processed=None)

    report = apply_retention(now=NOW)

    assert report.bodies == 2
    for row in (expired, failed_for_good):
        row.refresh_from_db()
        assert (row.body_bytes, row.body_dropped_at is not None) == (b"", True)
    assert expired.status == Status.PROCESSED and failed_for_good.status == Status.FAILED  # outcomes stay
    for row in (recent, retrying, pending):
        row.refresh_from_db()
        assert row.body_bytes == BODY and row.body_dropped_at is None


def test_a_dry_run_counts_and_changes_nothing(retention):
    retention(RAW_BODY_RETENTION_DAYS=30, MEDIA_RETENTION_DAYS=7, CLOSED_LEAD_RETENTION_DAYS=90)
    body = event(processed=31)
    message = MessageFactory(media_status=Message.MediaStatus.DOWNLOADED, media_downloaded_at=days_ago(8))
    message.media_file.save("1-photo.jpg", ContentFile(b"jpeg"), save=True)
    lead = LeadFactory(status=Lead.Status.LOST, last_message_at=days_ago(91))

    out = StringIO()
    call_command("whatsapp_retention", "--dry-run", stdout=out)
    report = apply_retention(now=NOW, dry_run=True)

    assert (report.bodies, report.media, report.leads) == (1, 1, 1)
    assert "would be removed" in report.summary()
    assert out.getvalue().startswith("Dry run: ")
    body.refresh_from_db()
    message.refresh_from_db()
    lead.refresh_from_db()
    assert body.body_bytes == BODY
    assert (
        message.media_status == Message.MediaStatus.DOWNLOADED
        and len(files_under(message.media_file.storage.location)) == 1
    )
    assert lead.erased_at is None and lead.name
    assert ErasureRecord.objects.count() == 0


@pytest.mark.volume
def test_100000_expired_bodies_are_purged_in_batches_with_progress(retention):
    retention(RAW_BODY_RETENTION_DAYS=30)
    WebhookEvent.objects.bulk_create(
        WebhookEvent(body=BODY, status=Status.PROCESSED, processed_at=days_ago(31)) for _ in range(100_000)
    )
    keep = event(processed=1)
    lines: list[str] = []

    report = apply_retention(now=NOW, batch_size=5000, progress=lines.append)

    assert report.bodies == 100_000
    assert len(lines) == 20 and lines[-1] == "webhook bodies: 100000 dropped"
    assert WebhookEvent.objects.filter(body_dropped_at__isnull=True).get() == keep
    assert WebhookEvent.objects.count() == 100_001
    assert apply_retention(now=NOW).bodies == 0  # a second run has nothing left to do


def test_media_files_older_than_the_period_are_deleted_from_storage(retention):
    retention(MEDIA_RETENTION_DAYS=7)
    old = MessageFactory(media_status=Message.MediaStatus.DOWNLOADED, media_downloaded_at=days_ago(8))
    old.media_file.save("1-old.jpg", ContentFile(b"old"), save=True)
    new = MessageFactory(media_status=Message.MediaStatus.DOWNLOADED, media_downloaded_at=days_ago(6))
    new.media_file.save("2-new.jpg", ContentFile(b"new"), save=True)
    storage = old.media_file.storage

    assert apply_retention(now=NOW).media == 1

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.media_status, old.media_file.name) == (Message.MediaStatus.EXPIRED, "")
    assert [p.name for p in files_under(storage.location)] == ["2-new.jpg"]
    assert new.media_status == Message.MediaStatus.DOWNLOADED


def test_the_lead_page_says_an_expired_file_was_deleted_by_retention(retention):
    retention(MEDIA_RETENTION_DAYS=7)
    old = MessageFactory(
        media_id="4455667788", media_status=Message.MediaStatus.DOWNLOADED, media_downloaded_at=days_ago(8)
    )
    old.media_file.save("1-old.jpg", ContentFile(b"old"), save=True)
    apply_retention(now=NOW)
    lead = old.conversation.lead

    page = logged_in(UserFactory(is_superuser=True)).get(
        reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])
    )

    assert "File deleted after the retention period" in page.content.decode()


def test_closed_leads_quiet_longer_than_the_period_are_erased(retention):
    retention(CLOSED_LEAD_RETENTION_DAYS=90)
    won = LeadFactory(status=Lead.Status.WON, last_message_at=days_ago(91))
    MessageFactory(conversation__lead=won, text="old chat")
    lost_recent = LeadFactory(status=Lead.Status.LOST, last_message_at=days_ago(89))
    open_old = LeadFactory(status=Lead.Status.QUALIFIED, last_message_at=days_ago(400))

    report = apply_retention(now=NOW)

    assert report.leads == 1
    won.refresh_from_db()
    assert won.erased_at is not None and won.wa_id is None and won.status == Lead.Status.WON
    assert not Message.objects.filter(conversation__lead=won).exists()
    record = ErasureRecord.objects.get()
    assert (record.trigger, record.erased_by, record.lead_id_erased) == ("retention", None, won.pk)
    assert "90 days" in record.reason
    for lead in (lost_recent, open_old):
        lead.refresh_from_db()
        assert lead.erased_at is None
    assert apply_retention(now=NOW).leads == 0  # an erased lead is not erased again


def test_the_beat_task_applies_the_periods_and_reports_a_summary(retention):
    retention(RAW_BODY_RETENTION_DAYS=1)
    row = event(processed=400)

    summary = retention_task.apply().result

    assert summary.startswith("1 webhook bodies were removed")
    row.refresh_from_db()
    assert row.body_dropped_at is not None


def test_the_command_prints_progress_and_a_summary(retention):
    retention(RAW_BODY_RETENTION_DAYS=1, RETENTION_BATCH_SIZE=2)
    for _ in range(3):
        event(processed=400)
    out = StringIO()

    call_command("whatsapp_retention", stdout=out)

    assert out.getvalue().splitlines() == [
        "webhook bodies: 2 dropped",
        "webhook bodies: 3 dropped",
        "Done: 3 webhook bodies were removed; media files: kept forever (not configured); "
        "closed leads: kept forever (not configured)",
    ]
