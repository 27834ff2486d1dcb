"""The closed vocabularies of updates: message types and delivery statuses.

Providers name these differently (Twilio's ``undelivered``, Meta's ``played``); each provider maps
its words onto these, and parser, models and services compare against the same members. A value
no provider mapping knows reads as ``UNKNOWN`` instead of raising, so a new kind is stored (with
its raw type kept beside it) on the day a provider starts sending it.
"""

from __future__ import annotations

from enum import StrEnum


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    ORDER = "order"
    SYSTEM = "system"
    REQUEST_WELCOME = "request_welcome"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> MessageType:
        return cls.UNKNOWN


MEDIA_TYPES = frozenset(
    {MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.DOCUMENT, MessageType.STICKER}
)


class DeliveryStatus(StrEnum):
    """How far a message we sent has got; ``FAILED`` is terminal."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> DeliveryStatus:
        return cls.UNKNOWN
