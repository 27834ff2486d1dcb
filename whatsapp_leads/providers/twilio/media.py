"""Twilio's media: ``GET /2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}`` with the account's credentials.

The media id is ``AC…/MM…/ME…`` (cut from the webhook's ``MediaUrl0`` by the parser) and the URL is
rebuilt on ``TWILIO_API_URL``, so our credentials only ever go to Twilio's API. Twilio answers with
a redirect to a short-lived file URL; redirects are followed by hand, at most ``MAX_REDIRECTS``,
only to ``https://`` (or back to the API's own origin, which is how a local fake serves it), and
the credentials are sent to the API's origin alone, never to the file host.
"""

from __future__ import annotations

import hashlib
from typing import IO
from urllib.parse import urljoin, urlsplit

import requests

from ...conf import app_settings
from ..base import MediaError, MediaFile
from . import config

CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)
DENIED = (401, 403)
GONE = (404, 410)


def media_url(media_id: str) -> str:
    parts = media_id.split("/")
    if len(parts) != 3 or not all(parts):
        raise MediaError(f"not a Twilio media id: {media_id!r}", retryable=False)
    account, message, media = parts
    return f"{config.api_url()}/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _timeout() -> tuple[float, float]:
    connect, read = app_settings.SEND_TIMEOUT_SECONDS
    return float(connect), float(read)


def _stream_to(response: requests.Response, target: IO[bytes], *, limit: int) -> int:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise MediaError(f"the file is {declared} bytes, larger than MEDIA_MAX_BYTES ({limit} bytes)",
                         retryable=False)  # fmt: skip
    digest = hashlib.sha256()
    size = 0
    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise MediaError(f"the file is larger than MEDIA_MAX_BYTES ({limit} bytes)", retryable=False)
        digest.update(chunk)
        target.write(chunk)
    return size


def fetch_media(media_id: str, *, into: IO[bytes], max_bytes: int) -> MediaFile:
    sid, token = config.account_sid(), config.api_token()
    if not (sid and token):
        raise MediaError("no Twilio credentials are configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
                         retryable=False)  # fmt: skip
    url = media_url(media_id)
    api_origin = _origin(config.api_url())
    with requests.Session() as session:
        for _hop in range(MAX_REDIRECTS + 1):
            auth = (sid, token) if _origin(url) == api_origin else None
            try:
                response = session.get(url, auth=auth, stream=True, allow_redirects=False, timeout=_timeout())
            except requests.RequestException as exc:
                raise MediaError(f"media download failed: {type(exc).__name__}", retryable=True) from None
            with response:
                if response.status_code in REDIRECTS:
                    target = urljoin(url, response.headers.get("Location", ""))
                    if not (target.startswith("https://") or _origin(target) == api_origin):
                        raise MediaError(f"Twilio redirected the download to {target[:80]!r}, which is not "
                                         "https: refused", retryable=False)  # fmt: skip
                    url = target
                    continue
                if response.status_code in DENIED:
                    raise MediaError(f"Twilio refused our credentials for the media (HTTP {response.status_code})",
                                     retryable=False)  # fmt: skip
                if response.status_code in GONE and auth is not None:
                    raise MediaError("Twilio no longer has this file (it was deleted)", retryable=False)
                if not response.ok:
                    raise MediaError(
                        f"media download failed with HTTP {response.status_code}", retryable=True
                    )
                size = _stream_to(response, into, limit=max_bytes)
                mime = response.headers.get("Content-Type", "").split(";")[0].strip()
                return MediaFile(size=size, mime_type=mime)
    raise MediaError(f"more than {MAX_REDIRECTS} redirects for one file", retryable=True)
