"""Provider payloads become typed updates. Meta's field names live here and nowhere else."""

from .meta import parse_payload
from .types import (
    AccountNotice,
    Billing,
    Business,
    ConsentChange,
    Contact,
    ErrorDetail,
    FormReply,
    IdentityChange,
    InboundMessage,
    InvalidUpdate,
    Media,
    MessageContext,
    MessageStatus,
    Referral,
    Update,
)

__all__ = [
    "AccountNotice",
    "Billing",
    "Business",
    "ConsentChange",
    "Contact",
    "ErrorDetail",
    "FormReply",
    "IdentityChange",
    "InboundMessage",
    "InvalidUpdate",
    "Media",
    "MessageContext",
    "MessageStatus",
    "Referral",
    "Update",
    "parse_payload",
]
