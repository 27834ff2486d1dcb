"""A provider that exists only in the test suite, to prove the provider seam.

Its wire format is deliberately unlike Meta's: a flat JSON list of messages, signed with
``X-Echo-Signature: <hex HMAC-SHA256>`` under ``ECHO_SECRET``. Registered through
``WHATSAPP_LEADS["PROVIDERS"]`` only, it must be stored, processed and turned into a lead by the
same pipeline as Meta, with no product file knowing it exists.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from django.http import HttpRequest

from whatsapp_leads.parsing import Business, Contact, InboundMessage, InvalidUpdate, Referral, Update, coerce
from whatsapp_leads.parsing.errors import PermanentError
from whatsapp_leads.parsing.jsonbody import load_json
from whatsapp_leads.providers.base import Provider, SignatureInvalid, SignatureMissing

ECHO_SECRET = "echo-test-secret"
ECHO_NUMBER = "echo-number-1"
PATH = "tests.support.echo_provider.EchoProvider"


def echo_sign(body: bytes, secret: str = ECHO_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _message(raw: object) -> InboundMessage:
    item = coerce.required_obj(raw, "message")
    ad = coerce.obj(item, "ad")
    return InboundMessage(
        business=Business(provider="echo", phone_number_id=ECHO_NUMBER, display_phone_number="+10000000000"),
        contact=Contact(
            wa_id=coerce.required_text(item.get("from"), "from"), name=coerce.text(item.get("name"))
        ),
        wamid=coerce.required_text(item.get("id"), "id") or _missing("id"),
        timestamp=coerce.timestamp(item.get("at")),
        type="text",
        text=coerce.text(item.get("text")),
        referral=Referral(
            source_id=coerce.text(ad.get("id")),
            source_type="ad",
            ctwa_clid=coerce.text(ad.get("clid")),
            raw=ad,
        )
        if ad
        else None,
        raw=item,
    )


def _missing(what: str) -> str:
    raise ValueError(f"message has no {what}")


class EchoProvider(Provider):
    name = "echo"

    def verify(self, request: HttpRequest, body: bytes) -> None:
        given = request.headers.get("X-Echo-Signature")
        if not given:
            raise SignatureMissing("Missing X-Echo-Signature")
        if not hmac.compare_digest(given.encode(), echo_sign(body).encode()):
            raise SignatureInvalid("Invalid signature")

    def parse(self, body: bytes, *, headers: Mapping[str, str]) -> list[Update]:
        payload = load_json(body)
        if not isinstance(payload, dict) or not isinstance(payload.get("echo"), list):
            raise PermanentError('not an echo webhook: expected {"echo": [...]}')
        updates: list[Update] = []
        for index, raw in enumerate(payload["echo"]):
            try:
                updates.append(_message(raw))
            except (TypeError, ValueError) as exc:
                updates.append(InvalidUpdate(reason=str(exc), path=f"echo[{index}]", raw=raw))
        return updates
