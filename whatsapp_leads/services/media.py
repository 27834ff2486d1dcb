"""Keep a media message's file in the private media storage, fetched through the message's provider.

Providers keep media for a limited time and their download URLs expire in minutes, so the file is
fetched soon after the message is stored, by a Celery task published on commit (never in the
webhook view, never holding up the lead). The provider's ``fetch_media`` does the protocol (for
Meta: id -> URL -> bytes, size cap, checksum); this module counts attempts, names and stores the
file, and records failures on the message. Transient failures (network, 5xx, throttling, a
checksum mismatch) are retried with exponential backoff up to ``MEDIA_MAX_ATTEMPTS``; permanent
ones (no token, token rejected, unknown media, too large) are not. Staff can start a failed
download over from the lead's admin page (``retry_failed``). Files go to ``Message.media_file``'s
storage (``WHATSAPP_LEADS["MEDIA_STORAGE"]``, private by default), never to a public URL.
"""

from __future__ import annotations

import logging
import mimetypes
import tempfile
from datetime import timedelta
from functools import partial

from django.core.files import File
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename

from ..conf import app_settings
from ..models import Message
from ..outcomes import Outcome, backoff
from ..parsing.jsonbody import storable
from ..providers.base import MediaError
from ..providers.registry import DEFAULT_PROVIDER, get_provider
from ..queueing import DOWNLOAD_MEDIA, publish

logger = logging.getLogger(__name__)


def schedule_download(message_id: int) -> bool:
    """Queue the download task; a refused publish leaves the message ``pending`` for the sweep."""
    if not app_settings.MEDIA_DOWNLOAD:
        return False
    return publish(DOWNLOAD_MEDIA, message_id, what=f"the media download of message {message_id}")


def requeue_unstarted(*, older_than_seconds: float | None = None, limit: int = 500) -> int:
    """Queue again downloads that never started (their publish was lost with the broker).

    Only never-attempted ones: a download already tried is retried by Celery on its own schedule.
    """
    age = app_settings.SWEEP_PENDING_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - timedelta(seconds=age)
    ids = Message.objects.filter(
        media_status=Message.MediaStatus.PENDING, media_attempts=0, created_at__lte=cutoff
    ).values_list("pk", flat=True)[:limit]
    return sum(schedule_download(pk) for pk in list(ids))


def retry_failed(messages: QuerySet[Message]) -> int:
    """Start the failed downloads among ``messages`` over: fresh attempts, then queued on commit.

    For a failure a person has since fixed (a renewed token, a raised MEDIA_MAX_BYTES). The count
    restarts so the download gets its full retry budget; if the publish is lost the message is
    pending with no attempts, which the sweep (``requeue_unstarted``) queues again.
    """
    ids = list(
        messages.filter(media_status=Message.MediaStatus.FAILED)
        .exclude(media_id="")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    Message.objects.filter(pk__in=ids, media_status=Message.MediaStatus.FAILED).update(
        media_status=Message.MediaStatus.PENDING, media_attempts=0, media_error=""
    )
    for pk in ids:
        transaction.on_commit(partial(schedule_download, pk))
    return len(ids)


def _filename(message: Message, mime_type: str) -> str:
    extension = mimetypes.guess_extension(mime_type.split(";")[0].strip()) if mime_type else None
    if message.media_filename:
        stem = get_valid_filename(message.media_filename)[-120:]
        return f"{message.pk}-{stem}" if "." in stem or not extension else f"{message.pk}-{stem}{extension}"
    return f"{message.pk}-{message.type}{extension or ''}"


def _store(message: Message) -> None:
    provider = get_provider(_provider_name(message))
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        fetched = provider.fetch_media(
            message.media_id, into=spool, max_bytes=app_settings.MEDIA_MAX_BYTES, sha256=message.media_sha256
        )
        size, mime_type = fetched.size, fetched.mime_type or message.media_mime_type
        spool.seek(0)
        message.media_file.save(_filename(message, mime_type), File(spool), save=False)
    stored = Message.objects.filter(pk=message.pk).update(
        media_file=message.media_file.name,
        media_size=size,
        media_mime_type=storable(message.media_mime_type or mime_type)[:128],
        media_status=Message.MediaStatus.DOWNLOADED,
        media_error="",
        media_downloaded_at=timezone.now(),
    )
    if not stored:  # the message was erased while downloading: its file must not outlive it
        message.media_file.storage.delete(message.media_file.name or "")


def _provider_name(message: Message) -> str:
    """The provider of the message's conversation, Meta for threads stored before providers were recorded."""
    return message.conversation.provider or DEFAULT_PROVIDER


def _attempt(message: Message) -> None:
    """``_store``, with any unexpected error (storage, database) turned into a retryable MediaError.

    The attempt is already counted when this runs; an error escaping here would leave the message
    pending with attempts used, which neither Celery nor the sweep would ever pick up again.
    """
    try:
        _store(message)
    except MediaError:
        raise
    except Exception as exc:
        logger.exception("media of message %s: storing failed", message.pk)
        raise MediaError(f"storing the file failed: {type(exc).__name__}: {exc}", retryable=True) from exc


def download_media(message_id: int) -> Outcome:
    """One download attempt for a message whose media is pending."""
    message = (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, media_status=Message.MediaStatus.PENDING)
        .first()
    )
    if message is None:
        return Outcome(status="skipped")
    Message.objects.filter(pk=message_id).update(media_attempts=F("media_attempts") + 1)
    attempts = message.media_attempts + 1
    try:
        _attempt(message)
    except MediaError as exc:
        retry = exc.retryable and attempts < app_settings.MEDIA_MAX_ATTEMPTS
        logger.warning("media of message %s: attempt %d failed: %s", message_id, attempts, exc)
        Message.objects.filter(pk=message_id).update(
            media_error=storable(f"Attempt {attempts}: {exc}")[:2000],
            media_status=Message.MediaStatus.PENDING if retry else Message.MediaStatus.FAILED,
        )
        if retry:
            delay = backoff(
                attempts,
                base=app_settings.MEDIA_RETRY_BACKOFF_SECONDS,
                cap=app_settings.RETRY_BACKOFF_MAX_SECONDS,
                at_least=exc.retry_after or 0,
            )
            return Outcome(status="retrying", retry_in=delay)
        return Outcome(status="failed")
    return Outcome(status="downloaded")
