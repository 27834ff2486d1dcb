"""What every provider implements: the seam between a provider's HTTP and our typed updates.

A provider is a small class named in ``WHATSAPP_LEADS["PROVIDERS"]``. The generic webhook view
asks it to answer the handshake and to verify a request; the worker asks it to turn the stored
request into typed updates and to fetch media. Everything provider-specific (header names,
signature schemes, JSON or form fields, media protocols) stays behind these methods, in the
provider's own folder, so the pipeline after them is the same for every provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, ClassVar

from django.http import HttpRequest, HttpResponse

from ..parsing import Update


class WebhookRejected(Exception):
    """A request the view must refuse before storing anything; ``status`` is the HTTP answer."""

    status: ClassVar[int] = 403

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureMissing(WebhookRejected):
    """No signature header at all: 401."""

    status = 401


class SignatureInvalid(WebhookRejected):
    """A signature that matches none of the configured secrets: 403."""

    status = 403


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFile:
    """What a download wrote: its size, type and SHA-256 (hex) as measured on the bytes."""

    size: int
    mime_type: str = ""


class MediaError(Exception):
    """A download attempt failed; ``retryable`` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Provider:
    """Base class of a messaging provider. Subclasses set ``name`` and override what they support.

    Instances are created once per process from the setting and shared, so they hold no
    per-request state; settings are read on each call, so ``override_settings`` applies at once.
    """

    #: The URL segment (``/whatsapp/webhook/<name>/``) and the value of ``WebhookEvent.provider``.
    name: ClassVar[str] = ""
    #: Request headers kept on each stored event (lower-case), besides the signature header.
    stored_headers: ClassVar[tuple[str, ...]] = (
        "content-type",
        "content-length",
        "user-agent",
        "x-request-id",
    )

    def handshake(self, request: HttpRequest) -> HttpResponse:
        """Answer a GET (a subscription check); providers without one answer 405."""
        return HttpResponse("Method not allowed", status=405, content_type="text/plain; charset=utf-8")

    def verify(self, request: HttpRequest, body: bytes) -> None:
        """Raise ``SignatureMissing`` or ``SignatureInvalid`` unless the request is the provider's.

        Runs before anything is stored, and must run no query.
        """
        raise NotImplementedError

    def parse(self, body: bytes, *, headers: Mapping[str, str]) -> list[Update]:
        """Every update in a stored request, in document order.

        Raises ``PermanentError`` when the body can never be processed; a part that cannot be
        understood becomes an ``InvalidUpdate`` and the rest is still returned.
        """
        raise NotImplementedError

    def fetch_media(self, media_id: str, *, into: IO[bytes], max_bytes: int, sha256: str = "") -> MediaFile:
        """Write the file behind ``media_id`` into ``into``; raise ``MediaError`` when it cannot."""
        raise MediaError(f"provider {self.name!r} cannot download media", retryable=False)

    def redact(self, body: bytes, *, identities: Iterable[str]) -> bytes | None:
        """``body`` without the items of the person known by ``identities``; None to drop the body.

        Called when a person is erased, for every stored body that mentions one of their
        identities (ids, numbers, message ids), so re-processing it can never bring them back.
        The default knows nothing of the provider's format and drops any body that mentions
        them; a provider that can cut one person out of a batch (Meta) overrides it.
        """
        wanted = [i.encode() for i in identities if i]
        return None if any(w in body for w in wanted) else body

    def readable_text(self, kind: str, raw: Mapping[str, object]) -> str:
        """One line for a stored message of this provider whose text column is empty."""
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
