"""Account-level notices (errors without messages, templates, quality, account changes)."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction

from ..models import AccountEvent, WebhookEvent
from ..parsing import AccountNotice
from ..signals import account_event_received
from .fitting import fitted


def fingerprint(notice: AccountNotice, event: WebhookEvent | None) -> str:
    """Identical notices share a fingerprint. Notices without Meta's time also key on their webhook,
    so a recurring error (same body, later webhook) is recorded again rather than folded away."""
    when = notice.occurred_at.isoformat() if notice.occurred_at else f"event:{event.pk if event else ''}"
    canonical = json.dumps(
        [notice.field, notice.event, notice.business.waba_id, when, notice.raw], sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_notice(notice: AccountNotice, *, event: WebhookEvent | None = None) -> AccountEvent:
    """Store the notice for the admin and announce it once; a template notice also updates the template."""
    _apply_template_change(notice)
    row, created = AccountEvent.objects.get_or_create(
        fingerprint=fingerprint(notice, event),
        defaults={
            "webhook_event": event,
            **fitted(
                AccountEvent,
                field=notice.field,
                event=notice.event,
                waba_id=notice.business.waba_id,
                summary=notice.summary,
            ),
            "payload": notice.raw,
            "occurred_at": notice.occurred_at,
        },
    )
    if created:
        transaction.on_commit(lambda: account_event_received.send(sender=AccountEvent, event=row))
    return row


def _apply_template_change(notice: AccountNotice) -> None:
    from ..providers.registry import DEFAULT_PROVIDER, UnknownProvider, get_provider
    from .outbound.templates import apply_change

    try:
        provider = get_provider(notice.business.provider or DEFAULT_PROVIDER)
    except UnknownProvider:
        return
    change = provider.template_change(notice.field, notice.raw)
    if change is not None:
        apply_change(change, waba_id=notice.business.waba_id)
