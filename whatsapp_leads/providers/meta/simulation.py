"""Builders for real-shaped Meta webhook payloads.

Used by ``manage.py whatsapp_simulate`` and by tests, ours and a host's: every shape follows
Meta's Cloud API reference (messages, contacts, referral, statuses), with Meta's sample values.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"


def wamid(wa_id: str = "919876543210") -> str:
    """A message id unique across processes, shaped like Meta's (base64 of the sender and a random id).

    Random rather than counted: two runs of the simulator must never send the same id, or the
    second message would rightly be dropped as a redelivery.
    """
    sender = (wa_id or "0").encode()[:255]
    raw = b"\x1c\x18" + bytes([len(sender)]) + sender + b"\x15\x02\x00\x12\x18\x14"
    raw += secrets.token_hex(10).upper().encode()
    return "wamid." + base64.b64encode(raw).decode()


def referral(
    ad_id: str = "120226305854810726",
    ctwa_clid: str = "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0NiNhEgpGo0AHemvuSoifXaytfTzcchptiErTKCqTrJ5nW1h7IHYeYymGb5K5J5iDm6yZyF-tSqkd",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "source_url": "https://fb.me/3cr4Wqqkv",
        "source_id": ad_id,
        "source_type": "ad",
        "body": "Get a home loan approved in 48 hours.",
        "headline": "Home loans at 8.4%",
        "media_type": "image",
        "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad_image.png",
        "ctwa_clid": ctwa_clid,
        "welcome_message": {"text": "Hi! How can we help you?"},
        **extra,
    }


def text_message(
    *,
    wa_id: str = "919876543210",
    text: str = "Hi, I'm interested",
    message_id: str | None = None,
    timestamp: int | None = None,
    referral_: dict[str, Any] | None = None,
    user_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": message_id or wamid(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": "text",
        "text": {"body": text},
        **extra,
    }
    if wa_id:
        message["from"] = wa_id
    if user_id:
        message["from_user_id"] = user_id
    if referral_:
        message["referral"] = referral_
    return message


def contact(
    *, wa_id: str = "919876543210", name: str = "Asha Verma", user_id: str | None = None
) -> dict[str, Any]:
    c: dict[str, Any] = {"profile": {"name": name}}
    if wa_id:
        c["wa_id"] = wa_id
    if user_id:
        c["user_id"] = user_id
    return c


def messages_value(messages: list[dict], contacts: list[dict] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        "messages": messages,
    }
    if contacts is not None:
        value["contacts"] = contacts
    return value


def status(
    message_id: str,
    status_: str,
    *,
    timestamp: int | None = None,
    recipient: str = "919876543210",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "status": status_,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient,
        **extra,
    }


def statuses_value(statuses: list[dict]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        "statuses": statuses,
    }


def envelope(*values: dict[str, Any], field: str = "messages", waba_id: str = WABA_ID) -> dict[str, Any]:
    """One entry with one change per value."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": v, "field": field} for v in values]}],
    }


def inbound(
    *,
    wa_id: str = "919876543210",
    name: str = "Asha Verma",
    text: str = "Hi, I'm interested",
    message_id: str | None = None,
    timestamp: int | None = None,
    ad_id: str | None = None,
    ctwa_clid: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A whole webhook body with one inbound text message, optionally from an ad."""
    ref = None
    if ad_id:
        ref = referral(ad_id, **({"ctwa_clid": ctwa_clid} if ctwa_clid else {}))
    msg = text_message(
        wa_id=wa_id, text=text, message_id=message_id, timestamp=timestamp, referral_=ref, user_id=user_id
    )
    return envelope(messages_value([msg], [contact(wa_id=wa_id, name=name, user_id=user_id)]))


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


# Meta's sample error for a failed delivery (status reference, code 131049).
FAILED_DELIVERY_ERROR: dict[str, Any] = {
    "code": 131049,
    "title": "This message was not delivered to maintain healthy ecosystem engagement.",
    "message": "This message was not delivered to maintain healthy ecosystem engagement.",
    "error_data": {
        "details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
    },
    "href": "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes",
}


def status_update(
    message_id: str,
    status_: str = "delivered",
    *,
    recipient: str = "919876543210",
    recipient_user_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A whole webhook body reporting one status of a message we sent.

    ``failed`` carries Meta's error object, as the real webhook does; with only a business-scoped
    user id (``recipient=""``) the ``recipient_id`` is omitted, as Meta omits it.
    """
    extra: dict[str, Any] = {}
    if recipient_user_id:
        extra["recipient_user_id"] = recipient_user_id
    if status_ == "failed":
        extra["errors"] = [dict(FAILED_DELIVERY_ERROR)]
    item = status(message_id, status_, timestamp=timestamp, recipient=recipient, **extra)
    if not recipient:
        item.pop("recipient_id")
    return envelope(statuses_value([item]))
