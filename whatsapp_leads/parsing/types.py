"""Typed, frozen updates: what a provider's webhook means, independent of its JSON.

Services read these and never Meta's field names. Every class keeps ``raw`` (the object it was
built from) so nothing Meta sent is lost, and unknown values degrade to ``"unknown"`` instead of
raising.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FROZEN = {"frozen": True, "slots": True, "kw_only": True}


@dataclass(**FROZEN)
class Business:
    """Which of our numbers (and accounts) an update concerns, and through which provider."""

    provider: str = ""
    waba_id: str = ""
    phone_number_id: str = ""
    display_phone_number: str = ""


@dataclass(**FROZEN)
class Contact:
    """The WhatsApp user behind an update. ``user_id`` (BSUID) or ``wa_id`` identifies them."""

    wa_id: str = ""
    user_id: str = ""
    username: str = ""
    name: str = ""

    @property
    def identified(self) -> bool:
        return bool(self.wa_id or self.user_id)


@dataclass(**FROZEN)
class Referral:
    """Click-to-WhatsApp ad that led to a message."""

    source_id: str = ""
    source_type: str = ""
    source_url: str = ""
    headline: str = ""
    body: str = ""
    media_type: str = ""
    image_url: str = ""
    video_url: str = ""
    thumbnail_url: str = ""
    ctwa_clid: str = ""
    welcome_text: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(**FROZEN)
class Media:
    """A media attachment; fetch the bytes through the Graph API with ``id``."""

    id: str = ""
    mime_type: str = ""
    sha256: str = ""
    caption: str = ""
    filename: str = ""


@dataclass(**FROZEN)
class MessageContext:
    """What a message replies to or how it was forwarded."""

    replied_to: str = ""
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: dict[str, Any] | None = None


@dataclass(**FROZEN)
class ErrorDetail:
    """One error object from Meta."""

    code: str = ""
    title: str = ""
    message: str = ""
    details: str = ""


@dataclass(**FROZEN)
class FormReply:
    """The answers of a WhatsApp Flow form (``nfm_reply``), parsed from Meta's JSON string.

    ``error`` says why the answers could not be read; the message is still stored.
    """

    name: str = ""
    body: str = ""
    flow_token: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass(**FROZEN)
class Billing:
    """How Meta prices a delivered message, and the pricing conversation it falls in."""

    category: str = ""
    type: str = ""
    model: str = ""
    billable: bool | None = None
    conversation_id: str = ""
    conversation_origin: str = ""
    conversation_expires_at: datetime | None = None


@dataclass(**FROZEN)
class InboundMessage:
    """A message a WhatsApp user sent us."""

    business: Business
    contact: Contact
    wamid: str
    timestamp: datetime
    type: str
    text: str = ""
    media: Media | None = None
    referral: Referral | None = None
    context: MessageContext | None = None
    errors: tuple[ErrorDetail, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    form: FormReply | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(**FROZEN)
class MessageStatus:
    """Delivery status of a message we sent (``status`` a ``DeliveryStatus``, ``UNKNOWN`` for words no mapping knows)."""

    business: Business
    wamid: str
    status: str
    timestamp: datetime
    recipient_id: str = ""
    recipient_user_id: str = ""
    errors: tuple[ErrorDetail, ...] = ()
    biz_opaque_callback_data: str = ""
    billing: Billing | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(**FROZEN)
class OutboundEcho:
    """A message the business sent from elsewhere (the WhatsApp Business app on a coexistence
    number): part of the thread, written by us, not a reply from the lead."""

    business: Business
    contact: Contact  # the user it was sent to
    wamid: str
    timestamp: datetime
    type: str
    text: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(**FROZEN)
class AccountNotice:
    """An update about the account rather than a conversation: errors, templates, quality, etc."""

    business: Business
    field: str
    event: str = ""
    summary: str = ""
    occurred_at: datetime | None = None
    # ``dataclasses.field``: this class has a field named ``field``.
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(**FROZEN)
class IdentityChange:
    """A WhatsApp user's number or business-scoped user id changed.

    ``previous_*`` find the lead; a non-empty ``new_*`` replaces that identity. Announced by a
    ``system`` message or by the ``user_id_update`` field.
    """

    business: Business
    reason: str
    previous_wa_id: str = ""
    previous_user_id: str = ""
    new_wa_id: str = ""
    new_user_id: str = ""
    detail: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(**FROZEN)
class ConsentChange:
    """A user stopped or resumed a category of messages (``user_preferences``)."""

    business: Business
    contact: Contact
    category: str
    value: str
    detail: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(**FROZEN)
class InvalidUpdate:
    """A part of the payload that could not be understood; recorded as the event's failure reason."""

    reason: str
    path: str = ""
    raw: Any = None


Update = (
    InboundMessage
    | MessageStatus
    | OutboundEcho
    | AccountNotice
    | IdentityChange
    | ConsentChange
    | InvalidUpdate
)
