"""WhatsApp through Twilio as a provider: ``X-Twilio-Signature`` over the URL and form, the Messages API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import IO, ClassVar

from django.http import HttpRequest

from ...parsing import Update
from ..base import (
    QUERY_STRING_HEADER,
    MediaFile,
    OutboundMessage,
    Provider,
    SendResult,
    SignatureInvalid,
    SignatureMissing,
    request_header,
)
from . import config, media, send
from .callback import callback_from_query
from .checks import twilio_issues
from .errors import meaning
from .parser import address, is_phone, parse
from .signature import SIGNATURE_HEADER, matches


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio signed: ``TWILIO_PUBLIC_URL`` (behind a proxy or TLS terminator) or the request's own.

    The query is the request's own: a status callback's URL carries our outbox id after the
    public URL's own query (``send.status_callback_url``), and the signature covers all of it.
    """
    public = config.public_url()
    if not public:
        return request.build_absolute_uri()
    query = request.META.get("QUERY_STRING", "")
    return f"{public.split('?', 1)[0]}?{query}" if query else public


class TwilioProvider(Provider):
    name = "twilio"
    stored_headers: ClassVar[tuple[str, ...]] = (
        "content-type",
        "content-length",
        "user-agent",
        "x-twilio-signature",
        "i-twilio-idempotency-token",
        "x-forwarded-for",
        "x-request-id",
    )
    stored_query = True  # a status callback's URL carries our outbox id (send.status_callback_url)

    @classmethod
    def default_sender(cls) -> str:
        """``TWILIO_WHATSAPP_FROM`` as Twilio conversations record our number: ``+14155550199``."""
        return address(config.whatsapp_from())

    @classmethod
    def sender_id(cls, value: str) -> str:
        """``whatsapp:+14155238886`` or ``+14155238886`` -> ``+14155238886``."""
        number = address(value.strip())
        if number and number[0].isdigit():
            number = "+" + number
        if not (number.startswith("+") and is_phone(number)):
            raise ValueError(
                "For Twilio the business number is the WhatsApp sender, whatsapp:+<country code and "
                "number> (for example whatsapp:+14155238886)."
            )
        return number

    def verify(self, request: HttpRequest, body: bytes) -> None:
        header = request_header(request, SIGNATURE_HEADER)
        if not header:
            raise SignatureMissing(f"Missing {SIGNATURE_HEADER}")
        if not matches(url=signed_url(request), body=body, header=header, tokens=config.auth_tokens()):
            raise SignatureInvalid("Invalid signature")

    def parse(self, body: bytes, *, headers: Mapping[str, str]) -> list[Update]:
        return parse(body, callback=callback_from_query(headers.get(QUERY_STRING_HEADER, "")))

    def parse_event(
        self, body: bytes, *, headers: Mapping[str, str], received_at: datetime | None = None
    ) -> list[Update]:
        callback = callback_from_query(headers.get(QUERY_STRING_HEADER, ""))
        return parse(body, received_at=received_at, callback=callback)

    def fetch_media(self, media_id: str, *, into: IO[bytes], max_bytes: int, sha256: str = "") -> MediaFile:
        return media.fetch_media(media_id, into=into, max_bytes=max_bytes)

    def send(self, message: OutboundMessage) -> SendResult:
        return send.send_message(message)

    def upload_media(self, *, sender: str, file: IO[bytes], filename: str, mime_type: str) -> str:
        return send.upload_media(sender=sender, filename=filename)

    def explain_error(self, code: str) -> tuple[str, str]:
        row = meaning(code)
        return row.words, row.category

    @classmethod
    def system_checks(cls) -> list:
        return twilio_issues()
