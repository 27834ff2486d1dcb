"""Twilio's form-encoded webhooks -> typed updates. Twilio's field names appear here and in this folder only.

One POST carries one thing: an inbound message (``MessageSid`` with ``From``/``Body``/media...) or
a status callback (``MessageSid`` with a ``MessageStatus`` other than ``received``). Twilio's
words are mapped with tables; a value no table knows becomes ``UNKNOWN`` and is still stored.
Twilio's webhooks carry no time, so ``received_at`` (when we stored the request) is the update's
timestamp.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.utils import timezone

from ...parsing import Update, coerce
from ...parsing.enums import DeliveryStatus, MessageType
from ...parsing.errors import PermanentError
from ...parsing.types import (
    Business,
    Contact,
    ErrorDetail,
    InboundMessage,
    Media,
    MessageContext,
    MessageStatus,
    Referral,
)
from .config import CHANNEL_PREFIX
from .errors import meaning
from .signature import form_params

PROVIDER = "twilio"

# MessageStatus -> ours. Twilio's pre-send steps (queued, sending, accepted, scheduled) say nothing
# the outbox does not know already: None means "no update". Unknown words become UNKNOWN.
STATUSES: dict[str, DeliveryStatus | None] = {
    "queued": None,
    "sending": None,
    "accepted": None,
    "scheduled": None,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
# A MessageStatus that means "this is a message someone sent us", not a status callback.
INBOUND_STATES = frozenset({"received", "receiving"})

# The main type of MediaContentType0 -> ours; image/webp is how WhatsApp stickers arrive.
MEDIA_TYPES: dict[str, MessageType] = {
    "image": MessageType.IMAGE,
    "video": MessageType.VIDEO,
    "audio": MessageType.AUDIO,
    "application": MessageType.DOCUMENT,
    "text": MessageType.DOCUMENT,
}
EXACT_MEDIA_TYPES: dict[str, MessageType] = {"image/webp": MessageType.STICKER}

# Click-to-WhatsApp referral: Twilio's parameter -> the app's referral vocabulary (Meta's names).
REFERRAL_FIELDS: dict[str, str] = {
    "ReferralSourceId": "source_id",
    "ReferralSourceType": "source_type",
    "ReferralSourceUrl": "source_url",
    "ReferralHeadline": "headline",
    "ReferralBody": "body",
    "ReferralCtwaClid": "ctwa_clid",
}

MEDIA_URL = re.compile(
    r"/Accounts/(AC[0-9a-zA-Z]+)/Messages/(MM[0-9a-zA-Z]+|SM[0-9a-zA-Z]+)/Media/(ME[0-9a-zA-Z]+)"
)
TRUE_WORDS = frozenset({"true", "1", "yes"})


def params_of(body: bytes) -> dict[str, str]:
    """The form's parameters (the last value of a repeated name)."""
    return dict(form_params(body))


def address(value: str) -> str:
    """``whatsapp:+919876543210`` -> ``+919876543210``; ``whatsapp:US.1349…`` -> ``US.1349…``."""
    value = value.strip()
    return value[len(CHANNEL_PREFIX) :] if value.startswith(CHANNEL_PREFIX) else value


def is_phone(value: str) -> bool:
    return bool(re.fullmatch(r"\+?\d{6,16}", value))


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def business(number: str) -> Business:
    """Our number, from ``To`` (inbound) or ``From`` (status): its E.164 form is its id."""
    ours = address(number)
    return Business(provider=PROVIDER, phone_number_id=ours, display_phone_number=ours)


def parse(body: bytes, *, received_at: datetime | None = None, callback: str = "") -> list[Update]:
    """The one update the request carries (none for a pre-send status step).

    ``callback`` is our outbox id from the status callback URL's query (``callback.py``), kept on
    a status as the provider-neutral ``biz_opaque_callback_data``; an inbound message ignores it.
    """
    params = params_of(body)
    sid = coerce.text(params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid"))
    if not sid:
        raise PermanentError("not a Twilio messaging webhook: no MessageSid")
    at = received_at or timezone.now()
    state = coerce.text(params.get("MessageStatus") or params.get("SmsStatus")).lower()
    if state and state not in INBOUND_STATES:
        status = _status(params, sid=sid, state=state, at=at, callback=callback)
        return [status] if status is not None else []
    return [_inbound(params, sid=sid, at=at)]


def _status(params: dict[str, str], *, sid: str, state: str, at: datetime,
            callback: str = "") -> MessageStatus | None:  # fmt: skip
    mapped = STATUSES.get(state, DeliveryStatus.UNKNOWN)
    if mapped is None:
        return None
    code = coerce.text(params.get("ErrorCode"))
    errors: tuple[ErrorDetail, ...] = ()
    if code or mapped is DeliveryStatus.FAILED:
        text = coerce.text(params.get("ErrorMessage"))
        errors = (ErrorDetail(code=code, title=text or meaning(code).words, message=text),)
    recipient = address(coerce.text(params.get("To")))
    return MessageStatus(
        business=business(coerce.text(params.get("From"))),
        wamid=sid,
        status=mapped,
        timestamp=at,
        recipient_id=digits(recipient) if is_phone(recipient) else "",
        recipient_user_id="" if is_phone(recipient) else recipient,
        errors=errors,
        biz_opaque_callback_data=callback,
        raw=dict(params),
    )


def _contact(params: dict[str, str]) -> Contact:
    sender = address(coerce.text(params.get("From")))
    wa_id = coerce.text(params.get("WaId")) or (digits(sender) if is_phone(sender) else "")
    user_id = coerce.text(params.get("ExternalUserId")) or ("" if is_phone(sender) else sender)
    return Contact(
        wa_id=digits(wa_id),
        user_id=user_id,
        username=coerce.text(params.get("ProfileUsername") or params.get("Username")),
        name=coerce.text(params.get("ProfileName")),
    )


def _count(value: str) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def media_id(url: str) -> str:
    """``AC…/MM…/ME…`` from a ``MediaUrl``: the download is rebuilt on ``TWILIO_API_URL`` from it,
    so a webhook can never point our credentials at a host of its choosing."""
    found = MEDIA_URL.search(url)
    return "/".join(found.groups()) if found else ""


def media_type(mime: str) -> MessageType:
    mime = mime.split(";")[0].strip().lower()
    return EXACT_MEDIA_TYPES.get(mime) or MEDIA_TYPES.get(mime.partition("/")[0], MessageType.DOCUMENT)


def _referral(params: dict[str, str]) -> Referral | None:
    if not (params.get("ReferralSourceId") or params.get("ReferralCtwaClid")):
        return None
    fields = {ours: coerce.text(params.get(theirs)) for theirs, ours in REFERRAL_FIELDS.items()}
    mime = coerce.text(params.get("ReferralMediaContentType")).lower()
    kind = "video" if mime.startswith("video/") else "image" if mime.startswith("image/") else ""
    url = coerce.text(params.get("ReferralMediaUrl"))
    raw: dict[str, Any] = {k: v for k, v in fields.items() if v}
    if kind:
        raw["media_type"] = kind
    if url:
        raw["video_url" if kind == "video" else "image_url"] = url
    # Twilio's own parameters kept beside the app's names (the whole form is on Message.payload too).
    raw["twilio"] = {k: v for k, v in params.items() if k.startswith("Referral")}
    return Referral(
        **fields,
        media_type=kind,
        image_url=url if kind != "video" else "",
        video_url=url if kind == "video" else "",
        raw=raw,
    )


def _inbound(params: dict[str, str], *, sid: str, at: datetime) -> InboundMessage:
    text = coerce.text(params.get("Body"))
    media: Media | None = None
    details: dict[str, Any] = {}
    count = _count(params.get("NumMedia", "0"))
    if count:
        mime = coerce.text(params.get("MediaContentType0"))
        kind = media_type(mime)
        media = Media(id=media_id(coerce.text(params.get("MediaUrl0"))), mime_type=mime, caption=text)
        if count > 1:  # WhatsApp sends one file a message; anything more is kept, not downloaded
            details["more_media"] = [
                {"url": params.get(f"MediaUrl{n}", ""), "mime_type": params.get(f"MediaContentType{n}", "")}
                for n in range(1, min(count, 10))
            ]
    elif params.get("Latitude") and params.get("Longitude"):
        kind = MessageType.LOCATION
        details = {
            "latitude": coerce.number(params.get("Latitude")),
            "longitude": coerce.number(params.get("Longitude")),
            "name": coerce.text(params.get("Label")),
            "address": coerce.text(params.get("Address")),
            "url": "",
        }
        place = ", ".join(p for p in (details["name"], details["address"]) if p)
        coords = f"{params['Latitude']}, {params['Longitude']}"
        text = text or (f"[Location] {place} ({coords})" if place else f"[Location] {coords}")
    elif params.get("ButtonPayload") or params.get("ButtonText"):
        kind = MessageType.BUTTON
        details = {
            "payload": coerce.text(params.get("ButtonPayload")),
            "text": coerce.text(params.get("ButtonText")),
            "button_type": coerce.text(params.get("ButtonType")),
        }
        text = text or details["text"]
    elif params.get("InteractiveData"):
        kind = MessageType.INTERACTIVE
        details = {"data": coerce.text(params.get("InteractiveData"))}
    elif text:
        kind = MessageType.TEXT
    else:
        kind = MessageType.UNKNOWN
    replied = coerce.text(params.get("OriginalRepliedMessageSid"))
    forwarded = coerce.text(params.get("Forwarded")).lower() in TRUE_WORDS
    frequently = coerce.text(params.get("FrequentlyForwarded")).lower() in TRUE_WORDS
    context = MessageContext(
        replied_to=replied, forwarded=forwarded or frequently, frequently_forwarded=frequently
    )
    return InboundMessage(
        business=business(coerce.text(params.get("To"))),
        contact=_contact(params),
        wamid=sid,
        timestamp=at,
        type=kind,
        text=text,
        media=media if media and media.id else None,
        referral=_referral(params),
        context=context if (replied or forwarded or frequently) else None,
        details=details,
        raw=dict(params),
    )
