"""Download a media message's file through the Graph API into the private media storage.

Meta keeps media for a limited time and its download URLs expire in minutes, so the file is
fetched soon after the message is stored, by a Celery task scheduled on commit (never in the
webhook view, never holding up the lead): ``GET /{version}/{media_id}`` with the WhatsApp access
token gives a URL, ``GET url`` with the same token gives the bytes. The body is streamed and cut
off past ``MEDIA_MAX_BYTES``; Meta's base64 SHA-256 is checked when given. A failure is recorded
on the message; transient ones (network, 5xx, throttling, a checksum mismatch) are retried with
exponential backoff up to ``MEDIA_MAX_ATTEMPTS``; permanent ones (no token, token rejected, unknown
media, too large) are not. Staff can start a failed download over from the lead's admin page
(``retry_failed``). Files go to ``Message.media_file``'s storage (``WHATSAPP_LEADS["MEDIA_STORAGE"]``,
private by default), never to a public URL.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import requests
from django.core.files import File
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename

from ..conf import app_settings
from ..graph import GraphAPIError, GraphClient
from ..models import Message
from ..parsing.media import parse_media_location

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
# Statuses of the file URL that mean "this token may not read it": retrying will not help.
DENIED = (401, 403)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    status: str
    retry_in: int | None = None


class MediaError(Exception):
    """A download attempt failed; ``retryable`` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def schedule_download(message_id: int) -> bool:
    """Queue the download task; a broker failure is logged (the message stays ``pending``)."""
    from ..tasks import download_message_media

    if not app_settings.MEDIA_DOWNLOAD:
        return False
    try:
        download_message_media.apply_async((message_id,), queue=app_settings.TASK_QUEUE, retry=False)
    except Exception:  # broker errors come in many types; the message keeps its pending status
        logger.warning("could not queue the media download of message %s", message_id, exc_info=True)
        return False
    return True


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


def backoff_seconds(attempts: int, *, at_least: float | None = None) -> int:
    base = app_settings.MEDIA_RETRY_BACKOFF_SECONDS
    delay = min(app_settings.RETRY_BACKOFF_MAX_SECONDS, base * 2 ** max(0, attempts - 1))
    return int(max(delay, at_least or 0))


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; Meta's error messages and answers are not ours to trust."""
    return text.replace("\x00", "\ufffd")


def _sha_matches(digest: bytes, expected: str) -> bool:
    """Meta documents base64; older payloads carried hex. Either form is accepted."""
    expected = expected.strip()
    return expected in (base64.b64encode(digest).decode(), digest.hex())


def _filename(message: Message, mime_type: str) -> str:
    extension = mimetypes.guess_extension(mime_type.split(";")[0].strip()) if mime_type else None
    if message.media_filename:
        stem = get_valid_filename(message.media_filename)[-120:]
        return f"{message.pk}-{stem}" if "." in stem or not extension else f"{message.pk}-{stem}{extension}"
    return f"{message.pk}-{message.type}{extension or ''}"


def _stream_to(response: requests.Response, target, *, limit: int) -> tuple[int, bytes]:
    """Copy the body into ``target``; (size, sha256 digest). Stops reading past ``limit``."""
    digest = hashlib.sha256()
    size = 0
    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise MediaError(f"the file is larger than MEDIA_MAX_BYTES ({limit} bytes)", retryable=False)
        digest.update(chunk)
        target.write(chunk)
    return size, digest.digest()


def _fetch(message: Message, client: GraphClient, spool) -> tuple[int, str]:
    """Write the file into ``spool``; (size, mime type)."""
    limit = app_settings.MEDIA_MAX_BYTES
    try:
        location = parse_media_location(client.get(message.media_id))
    except GraphAPIError as exc:
        raise MediaError(
            f"media lookup failed: {exc}", retryable=exc.retryable, retry_after=exc.retry_after
        ) from None
    except ValueError as exc:
        raise MediaError(str(exc), retryable=True) from None
    if location.size is not None and location.size > limit:
        raise MediaError(
            f"the file is {location.size} bytes, larger than MEDIA_MAX_BYTES ({limit} bytes)", retryable=False
        )
    try:
        with client.session.get(location.url, stream=True, timeout=client.timeout) as response:
            if response.status_code in DENIED:
                raise MediaError(
                    f"the media URL refused our access token (HTTP {response.status_code})", retryable=False
                )
            if not response.ok:  # 404/410: the short-lived URL lapsed; the next attempt asks for a fresh one
                raise MediaError(f"media download failed with HTTP {response.status_code}", retryable=True)
            size, digest = _stream_to(response, spool, limit=limit)
    except requests.RequestException as exc:
        raise MediaError(f"media download failed: {type(exc).__name__}", retryable=True) from None
    expected = location.sha256 or message.media_sha256
    if expected and not _sha_matches(digest, expected):
        raise MediaError("the downloaded file does not match Meta's SHA-256", retryable=True)
    return size, location.mime_type or message.media_mime_type


def _store(message: Message) -> None:
    token = (app_settings.ACCESS_TOKEN or "").strip()
    if not token:
        raise MediaError("no WhatsApp access token is configured: set WHATSAPP_ACCESS_TOKEN", retryable=False)
    if not message.media_id:
        raise MediaError("the message has no media id", retryable=False)
    client = GraphClient(
        token,
        base_url=app_settings.META_GRAPH_URL,
        version=app_settings.META_GRAPH_VERSION,
        max_retries=0,  # Celery retries with backoff; a worker never sleeps on Meta
        max_wait=0,
    )
    with client, tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        size, mime_type = _fetch(message, client, spool)
        spool.seek(0)
        message.media_file.save(_filename(message, mime_type), File(spool), save=False)
    Message.objects.filter(pk=message.pk).update(
        media_file=message.media_file.name,
        media_size=size,
        media_mime_type=_no_nul(message.media_mime_type or mime_type)[:128],
        media_status=Message.MediaStatus.DOWNLOADED,
        media_error="",
        media_downloaded_at=timezone.now(),
    )


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
    message = Message.objects.filter(pk=message_id, media_status=Message.MediaStatus.PENDING).first()
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
            media_error=_no_nul(f"Attempt {attempts}: {exc}")[:2000],
            media_status=Message.MediaStatus.PENDING if retry else Message.MediaStatus.FAILED,
        )
        if retry:
            return Outcome(status="retrying", retry_in=backoff_seconds(attempts, at_least=exc.retry_after))
        return Outcome(status="failed")
    return Outcome(status="downloaded")
