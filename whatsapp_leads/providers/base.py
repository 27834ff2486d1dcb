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
from datetime import datetime
from enum import StrEnum
from typing import IO, ClassVar

from django.http import HttpRequest, HttpResponse

from ..parsing import Update

#: The pseudo-header under which the webhook view keeps a request's query string, for providers
#: that set ``Provider.stored_query`` (the query is all a status callback URL can carry of ours).
QUERY_STRING_HEADER = "x-wl-query-string"


def request_header(request: HttpRequest, name: str) -> str | None:
    """One request header by its HTTP name, read from ``request.META``.

    ``request.headers`` builds a mapping of every header the first time it is touched (about a
    tenth of the webhook view's Python per request); a signature check needs only one.
    """
    key = name.upper().replace("-", "_")
    return request.META.get(key if key in {"CONTENT_TYPE", "CONTENT_LENGTH"} else f"HTTP_{key}")


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


class SendOutcome(StrEnum):
    """What a send attempt came to, in words every provider can use."""

    ACCEPTED = "accepted"  # the provider took it; ``message_id`` is its id
    REFUSED = "refused"  # the provider said no; trying again will not help
    RETRY = "retry"  # certainly not accepted (refused connection, 5xx, throttled): try later
    AMBIGUOUS = "ambiguous"  # the request went out and no answer came back: it may have been sent


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundMessage:
    """One message to send, in the outbox's own shape.

    ``kind`` is text, template, image, document, buttons, list, reaction or request_contact_info;
    ``content`` holds that kind's fields (``body``, ``preview_url``, ``name``/``language``/
    ``components``, ``link`` or ``media_id`` with ``caption``/``filename``, ``buttons``,
    ``sections``, ``message_id``/``emoji``). ``to`` is a phone (digits or E.164); ``recipient`` a
    business-scoped user id, used only when there is no phone. ``callback`` is echoed back on
    every status, so a message whose answer was lost can still be recognised.
    """

    kind: str
    content: Mapping[str, object]
    sender: str  # our number's id at the provider (Meta: phone_number_id)
    to: str = ""
    recipient: str = ""
    callback: str = ""
    reply_to: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """A provider's answer to one send attempt, provider-neutral.

    Refusals carry the provider's ``code``, ``title`` and ``details`` as sent, ``words`` (what it
    means for a rep, in plain language) and ``category`` (window, opt_out, not_on_whatsapp,
    template, auth, ...). ``retry_after`` is the provider's own wait estimate, when it gave one.
    """

    outcome: SendOutcome
    message_id: str = ""
    code: str = ""
    title: str = ""
    details: str = ""
    words: str = ""
    category: str = ""
    retry_after: float | None = None
    raw: Mapping[str, object] | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome is SendOutcome.ACCEPTED


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateChange:
    """A provider's notice that one of our templates changed: status, quality or category."""

    template_id: str = ""
    name: str = ""
    language: str = ""
    status: str = ""
    reason: str = ""
    quality: str = ""
    category: str = ""


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
    #: Whether the view keeps the request's query string with the stored body (under
    #: ``QUERY_STRING_HEADER``): for providers whose callbacks echo our data only in the URL.
    stored_query: ClassVar[bool] = False

    @classmethod
    def default_sender(cls) -> str:
        """Our number's id at this provider when a campaign names none (for a conversation we start)."""
        return ""

    @classmethod
    def sender_id(cls, value: str) -> str:
        """``value`` (a business number typed by an admin) as this provider's conversations record it.

        Raises ``ValueError`` with words for the admin when it cannot be one of our numbers here.
        """
        return value.strip()

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

    def parse_event(
        self, body: bytes, *, headers: Mapping[str, str], received_at: datetime | None = None
    ) -> list[Update]:
        """What the worker calls: ``parse``, plus ``received_at`` (when the request was stored).

        For providers whose webhooks carry no time of their own (Twilio's), so the time of an
        update is the time it reached us, not the time a worker (or a reprocessing) got to it.
        """
        return self.parse(body, headers=headers)

    @classmethod
    def system_checks(cls) -> list:
        """Django check messages about this provider's own settings; run only when it is enabled."""
        return []

    def fetch_media(self, media_id: str, *, into: IO[bytes], max_bytes: int, sha256: str = "") -> MediaFile:
        """Write the file behind ``media_id`` into ``into``; raise ``MediaError`` when it cannot."""
        raise MediaError(f"provider {self.name!r} cannot download media", retryable=False)

    def send(self, message: OutboundMessage) -> SendResult:
        """Make one attempt to send ``message``; never retries by itself (the outbox decides).

        Must tell "certainly not accepted" (``RETRY``) from "the request went out and the answer
        was lost" (``AMBIGUOUS``): only the first may be sent again without asking a person.
        """
        return SendResult(
            outcome=SendOutcome.REFUSED,
            words=f"This channel ({self.name}) cannot send messages.",
            category="unsupported",
        )

    def upload_media(self, *, sender: str, file: IO[bytes], filename: str, mime_type: str) -> str:
        """Upload a file for sending; the provider's media id. Raises ``MediaError``."""
        raise MediaError(f"provider {self.name!r} cannot upload media", retryable=False)

    def mark_read(self, *, sender: str, message_id: str) -> bool:
        """Tell the provider a received message was read (best effort); True when it agreed."""
        return False

    def template_change(self, field: str, raw: Mapping[str, object]) -> TemplateChange | None:
        """Read an account notice about a template; None when the notice is about something else."""
        return None

    def explain_error(self, code: str) -> tuple[str, str]:
        """(plain words for a rep, category) of a provider error code, e.g. from a failed status."""
        return "", ""

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
