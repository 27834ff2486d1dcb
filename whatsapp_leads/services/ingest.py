"""Dispatch: each parsed update type goes to the service that owns it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..models import WebhookEvent
from ..parsing import (
    AccountNotice,
    ConsentChange,
    IdentityChange,
    InboundMessage,
    MessageStatus,
    OutboundEcho,
    Update,
)
from . import account, consent, identity, inbound, statuses
from .outbound import echoes

HANDLERS: dict[type, Callable[..., Any]] = {
    InboundMessage: inbound.receive_message,
    MessageStatus: statuses.record_status,
    OutboundEcho: echoes.record_echo,
    AccountNotice: account.record_notice,
    IdentityChange: identity.apply_change,
    ConsentChange: consent.apply_consent,
}


def apply_update(update: Update, *, event: WebhookEvent | None = None) -> Any:
    """Apply one update; call inside a transaction. Unknown update types are ignored, not fatal."""
    handler = HANDLERS.get(type(update))
    if handler is None:
        return None
    return handler(update, event=event)
