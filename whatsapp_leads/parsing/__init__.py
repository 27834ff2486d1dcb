"""The provider-neutral typed updates every provider's parser produces, and the helpers they share.

Services read these; each provider's own field names stay in its folder under ``providers/``.
"""

from . import coerce
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
    OutboundEcho,
    Referral,
    Update,
)

__all__ = [
    "coerce",
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
    "OutboundEcho",
    "Referral",
    "Update",
]
