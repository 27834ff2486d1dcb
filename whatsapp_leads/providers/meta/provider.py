"""Meta's WhatsApp Cloud API as a provider: ``hub.*`` handshake, ``X-Hub-Signature-256``, JSON updates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, ClassVar

from django.http import HttpRequest, HttpResponse

from ...conf import app_settings
from ...parsing import Update
from ...parsing.jsonbody import load_json
from ..base import (
    MediaFile,
    OutboundMessage,
    Provider,
    SendResult,
    SignatureInvalid,
    SignatureMissing,
    TemplateChange,
    request_header,
)
from . import media, send
from .errors import meaning
from .handshake import handshake
from .parser import parse_payload
from .redact import redact_body
from .signature import SIGNATURE_HEADER, verify_meta_signature
from .templates import template_change
from .text import readable_text


class MetaProvider(Provider):
    name = "meta"
    stored_headers: ClassVar[tuple[str, ...]] = (
        "content-type",
        "content-length",
        "user-agent",
        "x-hub-signature-256",
        "x-forwarded-for",
        "x-request-id",
    )

    @classmethod
    def default_sender(cls) -> str:
        return (app_settings.PHONE_NUMBER_ID or "").strip()

    @classmethod
    def sender_id(cls, value: str) -> str:
        """A Cloud API phone number id: digits only (not the phone number itself)."""
        value = value.strip()
        if not value.isascii() or not value.isdigit():
            raise ValueError(
                "For Meta's Cloud API the business number is its phone number id (digits, as in "
                "WhatsApp Manager > Phone numbers), not the phone number."
            )
        return value

    def handshake(self, request: HttpRequest) -> HttpResponse:
        return handshake(request)

    def verify(self, request: HttpRequest, body: bytes) -> None:
        header = request_header(request, SIGNATURE_HEADER)
        if not header:
            raise SignatureMissing(f"Missing {SIGNATURE_HEADER}")
        if not verify_meta_signature(body, header, app_settings.app_secrets):
            raise SignatureInvalid("Invalid signature")

    def parse(self, body: bytes, *, headers: Mapping[str, str]) -> list[Update]:
        return parse_payload(load_json(body))

    def fetch_media(self, media_id: str, *, into: IO[bytes], max_bytes: int, sha256: str = "") -> MediaFile:
        return media.fetch_media(media_id, into=into, max_bytes=max_bytes, sha256=sha256)

    def send(self, message: OutboundMessage) -> SendResult:
        return send.send_message(message)

    def upload_media(self, *, sender: str, file: IO[bytes], filename: str, mime_type: str) -> str:
        return send.upload_media(sender=sender, file=file, filename=filename, mime_type=mime_type)

    def mark_read(self, *, sender: str, message_id: str) -> bool:
        return send.mark_read(sender=sender, message_id=message_id)

    def template_change(self, field: str, raw: Mapping[str, object]) -> TemplateChange | None:
        return template_change(field, dict(raw))

    def explain_error(self, code: str) -> tuple[str, str]:
        row = meaning(code)
        return row.words, row.category

    def redact(self, body: bytes, *, identities: Iterable[str]) -> bytes | None:
        return redact_body(body, identities=identities)

    def readable_text(self, kind: str, raw: Mapping[str, object]) -> str:
        return readable_text(kind, dict(raw))
