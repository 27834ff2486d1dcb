"""Statuses of our outbound messages: every report kept, the message's status only moves forward.

Order comes from what a status means and Meta's timestamp, never from arrival: ``read`` that
arrives before ``delivered`` stays ``read``; ``failed`` is terminal. A status for a message we do
not know yet waits in ``StatusUpdate`` and is applied when the message is stored.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from ..models import Message, StatusUpdate, WebhookEvent
from ..parsing import Billing, MessageStatus
from ..parsing.enums import DeliveryStatus
from ..providers.registry import DEFAULT_PROVIDER, UnknownProvider, get_provider
from ..signals import message_failed, message_status_changed
from .fitting import exact, fit, fitted
from .outbound.outbox import resolve_by_callback

RANK: dict[str, int] = {
    "pending": 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.PLAYED: 4,
}
TERMINAL = DeliveryStatus.FAILED
TIMESTAMP_FIELD: dict[str, str] = {
    DeliveryStatus.SENT: "sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.READ: "read_at",
    DeliveryStatus.FAILED: "failed_at",
}


def billing_fields(billing: Billing | None) -> dict[str, object]:
    """Pricing and pricing-conversation columns of a ``StatusUpdate`` (empty when Meta sent none)."""
    if billing is None:
        return {}
    return {
        **fitted(
            StatusUpdate,
            pricing_category=billing.category,
            pricing_type=billing.type,
            pricing_model=billing.model,
            conversation_id=billing.conversation_id,
            conversation_origin=billing.conversation_origin,
        ),
        "billable": billing.billable,
        "conversation_expires_at": billing.conversation_expires_at,
    }


def moves_forward(current: str, new: str) -> bool:
    if current == TERMINAL or new not in RANK and new != TERMINAL:
        return False
    if new == TERMINAL:
        return True
    return RANK[new] > RANK.get(current, -1)


def apply(message: Message, update: StatusUpdate) -> bool:
    """Apply one stored status to its (locked) message; True when the visible status changed."""
    if message.direction != Message.Direction.OUTBOUND:
        return False
    fields: list[str] = []
    stamp_field = TIMESTAMP_FIELD.get(update.status)
    if stamp_field and getattr(message, stamp_field) is None:
        setattr(message, stamp_field, update.timestamp)
        fields.append(stamp_field)
    previous = message.status
    changed = moves_forward(previous, update.status)
    if changed:
        message.status = update.status
        message.status_timestamp = update.timestamp
        fields += ["status", "status_timestamp"]
        if update.status == TERMINAL:
            message.error_code, message.error_title = update.error_code, update.error_title
            message.error_message, message.error_details = update.error_message, update.error_details
            fields += ["error_code", "error_title", "error_message", "error_details"]
            words = failure_words(message)
            if words:
                message.error_words = words
                fields.append("error_words")
            if message.send_state:
                message.send_state = Message.SendState.REFUSED
                fields.append("send_state")
    if update.biz_opaque_callback_data and not message.biz_opaque_callback_data:
        message.biz_opaque_callback_data = update.biz_opaque_callback_data
        fields.append("biz_opaque_callback_data")
    if fields:
        message.save(update_fields=fields)
    if changed:
        transaction.on_commit(
            lambda: message_status_changed.send(
                sender=Message, message=message, status=update.status, previous_status=previous
            )
        )
        if update.status == TERMINAL:
            transaction.on_commit(
                lambda: message_failed.send(
                    sender=Message, message=message, code=message.error_code, words=message.error_words
                )
            )
    return changed


def failure_words(message: Message) -> str:
    """What a failed status's code means for the rep, from the thread's provider's table."""
    if not message.error_code:
        return ""
    try:
        provider = get_provider(message.conversation.provider or DEFAULT_PROVIDER)
    except UnknownProvider:
        return ""
    return provider.explain_error(message.error_code)[0]


def apply_pending(message: Message) -> int:
    """Apply statuses that arrived before the message, oldest first; returns how many changed it."""
    changed = 0
    for update in StatusUpdate.objects.filter(wamid=message.wamid, applied=False).order_by("timestamp", "id"):
        changed += apply(message, update)
        update.message, update.applied = message, True
        update.save(update_fields=["message", "applied"])
    return changed


def record_status(status: MessageStatus, *, event: WebhookEvent | None = None) -> StatusUpdate:
    """Keep the report (once per message and status) and apply it if the message is known."""
    error = status.errors[0] if status.errors else None
    wamid = exact(StatusUpdate, "wamid", status.wamid, label="message id")
    defaults = {
        "timestamp": status.timestamp,
        **fitted(
            StatusUpdate,
            recipient_id=status.recipient_id or status.recipient_user_id,
            error_code=error.code if error else "",
            error_title=(error.title or error.message) if error else "",
            biz_opaque_callback_data=status.biz_opaque_callback_data,
        ),
        "error_message": error.message if error else "",
        "error_details": error.details if error else "",
        **billing_fields(status.billing),
        "payload": status.raw,
    }
    state = fit(StatusUpdate, "status", status.status)
    try:
        with transaction.atomic():
            row, _ = StatusUpdate.objects.get_or_create(wamid=wamid, status=state, defaults=defaults)
    except IntegrityError:  # a concurrent worker stored the same report first
        row = StatusUpdate.objects.get(wamid=wamid, status=state)
    if row.applied:
        return row
    message = Message.objects.select_for_update().filter(wamid=wamid).first()
    if message is None and status.biz_opaque_callback_data:
        # The send's answer was lost (a timeout after the request went out): our outbox id, echoed
        # by Meta, names the message, and this status proves Meta accepted it.
        message = resolve_by_callback(status.biz_opaque_callback_data, wamid)
    if message is not None:
        apply_pending(message)
    return row


def reconcile(limit: int = 1000) -> int:
    """Apply waiting statuses whose message has since been stored.

    Closes the one race the normal path leaves open: a status and its message committed by two
    workers at the same instant, each unable to see the other. The sweep runs this.
    """
    wamids = (
        StatusUpdate.objects.filter(applied=False, wamid__in=Message.objects.values("wamid"))
        .values_list("wamid", flat=True)
        .distinct()[:limit]
    )
    done = 0
    for wamid in list(wamids):
        with transaction.atomic():
            message = Message.objects.select_for_update().get(wamid=wamid)
            done += apply_pending(message)
    return done
