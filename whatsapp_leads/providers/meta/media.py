"""Meta's media protocol: ``GET /{version}/{media_id}`` gives a short-lived URL, ``GET url`` the bytes.

Both calls carry the WhatsApp access token. The URL expires in minutes, so it is asked for again
on every attempt. The body is streamed and cut off past ``max_bytes``; Meta's base64 SHA-256 (or
the hex form older payloads carried) is checked when given. Failures are ``MediaError`` with
``retryable`` set by what they mean: a token Meta refuses will not start working on its own, a
5xx or an expired URL may.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import IO, Any

import requests

from ...conf import app_settings
from ...graph import GraphAPIError, GraphClient
from ...graph.versions import Api
from ..base import MediaError, MediaFile

CHUNK_BYTES = 64 * 1024
# Statuses of the file URL that mean "this token may not read it": retrying will not help.
DENIED = (401, 403)


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaLocation:
    url: str
    mime_type: str = ""
    sha256: str = ""
    size: int | None = None


def parse_media_location(body: Any) -> MediaLocation:
    """Raises ``ValueError`` when the answer has no download URL."""
    body = body if isinstance(body, dict) else {}
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValueError("the Graph API's media answer has no download URL")
    size = body.get("file_size")
    try:
        size = int(size) if size is not None and not isinstance(size, bool) else None
    except (TypeError, ValueError):
        size = None
    mime, sha = body.get("mime_type"), body.get("sha256")
    return MediaLocation(
        url=url,
        mime_type=mime if isinstance(mime, str) else "",
        sha256=sha if isinstance(sha, str) else "",
        size=size,
    )


def sha_matches(digest: bytes, expected: str) -> bool:
    """Meta documents base64; older payloads carried hex. Either form is accepted."""
    expected = expected.strip()
    return expected in (base64.b64encode(digest).decode(), digest.hex())


def _stream_to(response: requests.Response, target: IO[bytes], *, limit: int) -> tuple[int, bytes]:
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


def _client() -> GraphClient:
    if not (app_settings.ACCESS_TOKEN or "").strip():
        raise MediaError("no WhatsApp access token is configured: set WHATSAPP_ACCESS_TOKEN", retryable=False)
    # Celery retries with backoff; a worker never sleeps on Meta.
    return GraphClient.from_settings(api=Api.CLOUD, max_retries=0, max_wait=0)


def fetch_media(media_id: str, *, into: IO[bytes], max_bytes: int, sha256: str = "") -> MediaFile:
    """Download ``media_id`` into ``into``; ``sha256`` is the webhook's checksum, used when the lookup has none."""
    if not media_id:
        raise MediaError("the message has no media id", retryable=False)
    with _client() as client:
        try:
            location = parse_media_location(client.get(media_id))
        except GraphAPIError as exc:
            raise MediaError(
                f"media lookup failed: {exc}", retryable=exc.retryable, retry_after=exc.retry_after
            ) from None
        except ValueError as exc:
            raise MediaError(str(exc), retryable=True) from None
        if location.size is not None and location.size > max_bytes:
            raise MediaError(
                f"the file is {location.size} bytes, larger than MEDIA_MAX_BYTES ({max_bytes} bytes)",
                retryable=False,
            )
        try:
            with client.session.get(location.url, stream=True, timeout=client.timeout) as response:
                if response.status_code in DENIED:
                    raise MediaError(
                        f"the media URL refused our access token (HTTP {response.status_code})",
                        retryable=False,
                    )
                if not response.ok:  # 404/410: the short-lived URL lapsed; the next attempt asks again
                    raise MediaError(
                        f"media download failed with HTTP {response.status_code}", retryable=True
                    )
                size, digest = _stream_to(response, into, limit=max_bytes)
        except requests.RequestException as exc:
            raise MediaError(f"media download failed: {type(exc).__name__}", retryable=True) from None
    expected = location.sha256 or sha256
    if expected and not sha_matches(digest, expected):
        raise MediaError("the downloaded file does not match Meta's SHA-256", retryable=True)
    return MediaFile(size=size, mime_type=location.mime_type)
