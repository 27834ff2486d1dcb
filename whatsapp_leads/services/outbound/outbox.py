"""The durable outbox: a send is an outbound ``Message`` before any HTTP call, delivered by a task.

``queue_send`` checks the rules (window, consent, template approval), stores the message as
``pending``/``queued`` under a placeholder wamid (``outbox:<uuid>``) and publishes
``queueing.SEND_MESSAGE`` once the transaction commits. ``deliver`` (the task's body) claims the
row (``queued``/``retrying`` -> ``sending``) in its own transaction, so two tasks for one message
never both call the provider; then it makes one attempt and records what came of it:

- accepted: the provider's id becomes the wamid, statuses that already arrived apply, ``message_sent``;
- refused: ``failed`` with code, title, details and the rep's words, ``message_failed``;
- retry: back to ``retrying`` with exponential backoff and jitter, up to ``SEND_MAX_ATTEMPTS``;
- ambiguous: ``unknown`` ("delivery unknown"), never sent again by itself. Our outbox id travels
  with the send (Meta: ``biz_opaque_callback_data``; Twilio: the ``StatusCallback`` URL) and comes
  back on the provider's statuses, so the first status reported for it resolves the message
  (``resolve_by_callback``); otherwise a person decides with ``resend``.

A conversation we start (the lead has no thread) uses the lead's campaign's provider and number
(``sender.starting_business``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from ...conf import app_settings
from ...models import Conversation, Lead, Message
from ...outcomes import Outcome, backoff
from ...providers.base import MediaError, OutboundMessage, SendOutcome, SendResult
from ...providers.registry import DEFAULT_PROVIDER, get_provider
from ...queueing import SEND_MESSAGE, publish
from ...signals import message_failed, message_sent
from .. import conversations, lead_activity
from . import consent, ratelimit, sender, templates, window
from .refusal import NO_ADDRESS, OPTED_OUT, TEMPLATE_NOT_APPROVED, WINDOW_CLOSED, Refusal

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "wl-outbox:"
PLACEHOLDER_PREFIX = "outbox:"
KINDS = ("text", "template", "image", "document", "buttons", "list", "reaction", "request_contact_info")
# Message.type as Meta names the sent message
STORED_TYPE = {"buttons": "interactive", "list": "interactive", "request_contact_info": "interactive"}
Send = SendOutcome


def callback_for(message: Message) -> str:
    return f"{CALLBACK_PREFIX}{message.pk}"


def is_placeholder(wamid: str) -> bool:
    return wamid.startswith(PLACEHOLDER_PREFIX)


# --- choosing where to send ----------------------------------------------------------------------


def conversation_for(lead: Lead) -> Conversation | None:
    """The thread the lead last wrote in (its number answers); None when the lead has none."""
    return (
        Conversation.objects.filter(lead=lead).order_by("-last_inbound_at", "-last_message_at", "-pk").first()
    )


def address(lead: Lead) -> tuple[str, str]:
    """(to, recipient): the phone when we have one, else the business-scoped user id."""
    phone = (lead.phone or "").strip() or (f"+{lead.wa_id}" if lead.wa_id else "")
    if phone:
        return phone, ""
    return "", lead.user_id or ""


def readable(kind: str, content: Mapping[str, Any]) -> str:
    """One line for the transcript of what we asked to send."""
    if kind == "template":
        return f"[template {content.get('name')}] {content.get('preview', '')}".strip()
    if kind == "reaction":
        return f"Reacted {content.get('emoji') or '(removed)'}"
    if kind in {"image", "document"}:
        return str(content.get("caption") or content.get("filename") or f"[{kind}]")
    return str(content.get("body", ""))


# --- the rules ------------------------------------------------------------------------------------


def check(lead: Lead, *, kind: str, content: Mapping[str, Any], conversation: Conversation | None,
          now: datetime) -> Refusal | None:  # fmt: skip
    """The first rule the send breaks, in words for the rep; None when it may be queued."""
    to, recipient = address(lead)
    if not (to or recipient):
        return Refusal(NO_ADDRESS, "We have neither a phone number nor a WhatsApp user id for this lead.")
    if window.needs_window(kind) and not window.window_of(conversation, now=now).open:
        return Refusal(WINDOW_CLOSED, window.window_of(conversation, now=now).words(now=now))
    if kind == "template":
        template = templates.find(str(content.get("name", "")), str(content.get("language", "")))
        if template is None or not template.approved:
            state = "is not approved" if template else "is not one of our synced templates"
            return Refusal(
                TEMPLATE_NOT_APPROVED,
                f"The template {content.get('name')!s} ({content.get('language')!s}) {state}; "
                "only approved templates can be sent.",
            )
        if not consent.may_send(lead, kind=kind, category=template.category):
            return Refusal(
                OPTED_OUT,
                "This customer stopped marketing messages from us, so a marketing template cannot be "
                "sent. Utility templates and replies inside the 24-hour window still can.",
            )
    return None


def normalise(kind: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and complete ``content``; ValueError (the API's 400) when it is not a message."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    data = dict(content)
    required = {
        "text": ("body",),
        "template": ("name", "language"),
        "buttons": ("body", "buttons"),
        "list": ("body", "button", "sections"),
        "reaction": ("message_id",),
        "request_contact_info": ("body",),
    }.get(kind, ())
    missing = [name for name in required if not data.get(name)]
    if missing:
        raise ValueError(f"a {kind} message needs {', '.join(missing)}")
    if kind in {"image", "document"} and not (data.get("link") or data.get("media_id") or data.get("file")):
        raise ValueError(f"a {kind} message needs a link, a media_id or an uploaded file")
    if kind == "text" and len(str(data["body"])) > 4096:
        raise ValueError("a text message is at most 4096 characters")
    if kind == "buttons" and not 1 <= len(data["buttons"]) <= 3:
        raise ValueError("reply buttons take one to three buttons")
    if kind == "template":
        template = templates.find(str(data["name"]), str(data["language"]))
        if isinstance(data.get("parameters"), list):
            data["components"] = templates.components_from_values(template, data.pop("parameters"))
        if template is not None:
            data["category"] = template.category
            values = [p.get("text", "") for c in data.get("components", []) if str(c.get("type")).lower() == "body"
                      for p in c.get("parameters", []) if isinstance(p, Mapping)]  # fmt: skip
            data["preview"] = templates.preview(template, [str(v) for v in values])
    return data


# --- queueing ---------------------------------------------------------------------------------------


def queue_send(
    lead: Lead,
    *,
    kind: str,
    content: Mapping[str, Any],
    by: Any = None,
    origin: str = "rep",
    reply_to: str = "",
    file: File | None = None,
    now: datetime | None = None,
) -> Message | Refusal:
    """Store the message and queue its delivery, or say which rule refuses it (nothing stored).

    ``file`` (an image or document to upload; its ``name`` and ``content_type`` are used) is
    stored with the message in the private media storage before the task can see the row.
    Raises ValueError when ``content`` is not a valid message of ``kind``.
    """
    now = now or timezone.now()
    if file is not None:
        content = {**content, "file": True}
    data = normalise(kind, content)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        conversation = conversation_for(lead)
        refusal = check(lead, kind=kind, content=data, conversation=conversation, now=now)
        if refusal is not None:
            return refusal
        if conversation is None:  # a template to a lead who never wrote: the campaign's number starts it
            conversation = conversations.get_conversation(lead, sender.starting_business(lead), at=now)
        message = Message.objects.create(
            wamid=f"{PLACEHOLDER_PREFIX}{uuid.uuid4()}",
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            type=STORED_TYPE.get(kind, kind),
            text=readable(kind, data),
            timestamp=now,
            status=Message.Status.PENDING,
            send_state=Message.SendState.QUEUED,
            send_updated_at=now,
            content={"kind": kind, **data},
            sent_by=by if getattr(by, "pk", None) else None,
            origin=origin,
            reply_to_wamid=reply_to or (str(data.get("message_id", "")) if kind == "reaction" else ""),
        )
        message.biz_opaque_callback_data = callback_for(message)
        fields = ["biz_opaque_callback_data"]
        if file is not None:
            name = (getattr(file, "name", "") or f"{kind}-{message.pk}").rsplit("/", 1)[-1]
            message.media_file.save(name, file, save=False)
            message.media_filename = name[:255]
            message.media_mime_type = (getattr(file, "content_type", "") or "application/octet-stream")[:128]
            fields += ["media_file", "media_filename", "media_mime_type"]
        message.save(update_fields=fields)
        conversations.count_message(conversation, message)
        lead_activity.save_outbound(lead, message)
        transaction.on_commit(
            lambda: publish(SEND_MESSAGE, message.pk, what=f"the send of message {message.pk}")
        )
    return message


def resend(message: Message, *, by: Any = None) -> Message | Refusal:
    """A person's decision to send again a message whose delivery is unknown (or that failed)."""
    if message.direction != Message.Direction.OUTBOUND or message.send_state not in (
        Message.SendState.UNKNOWN,
        Message.SendState.REFUSED,
    ):
        raise ValueError("only a message whose delivery is unknown, or that failed, can be sent again")
    content = {k: v for k, v in message.content.items() if k not in {"kind", "preview", "category"}}
    lead = message.conversation.lead
    return queue_send(lead, kind=message.content.get("kind", "text"), content=content, by=by,
                      origin=message.origin or "rep", reply_to=message.reply_to_wamid)  # fmt: skip


# --- delivering --------------------------------------------------------------------------------------


def _set_state(message: Message, state: str, **fields: Any) -> None:
    message.send_state = state
    message.send_updated_at = timezone.now()
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=["send_state", "send_updated_at", *fields])


def _claim(message_id: int) -> Message | None:
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("conversation__lead")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.send_state not in (
            Message.SendState.QUEUED,
            Message.SendState.RETRYING,
        ):
            return None
        _set_state(message, Message.SendState.SENDING, send_attempts=message.send_attempts + 1)
        return message


def _outbound(message: Message) -> OutboundMessage:
    lead = message.conversation.lead
    to, recipient = address(lead)
    content = dict(message.content)
    kind = content.pop("kind", "text")
    return OutboundMessage(
        kind=kind,
        content=content,
        sender=sender.sender_of(message.conversation.provider, message.conversation.phone_number_id),
        to=to,
        recipient=recipient,
        callback=message.biz_opaque_callback_data,
        reply_to="" if kind == "reaction" else message.reply_to_wamid,
    )


def _upload_if_needed(message: Message) -> None:
    """A file stored with the message is uploaded once; its media id is kept for any retry."""
    content = message.content
    if content.get("kind") not in {"image", "document"} or content.get("media_id") or not message.media_file:
        return
    provider = get_provider(message.conversation.provider or DEFAULT_PROVIDER)
    with message.media_file.open("rb") as handle:
        media_id = provider.upload_media(
            sender=message.conversation.phone_number_id,
            file=handle,
            filename=message.media_filename or (message.media_file.name or "").rsplit("/", 1)[-1],
            mime_type=message.media_mime_type or "application/octet-stream",
        )
    message.content = {**content, "media_id": media_id}
    message.media_id = media_id[:128]
    message.save(update_fields=["content", "media_id"])


def deliver(message_id: int) -> Outcome:
    """One delivery attempt of a queued message; ``retry_in`` asks the task to try again later."""
    message = _claim(message_id)
    if message is None:
        return Outcome(status="skipped")
    number = message.conversation.phone_number_id
    if not ratelimit.acquire(number or "-"):
        _back_to_queue(message, attempts=message.send_attempts - 1)
        return Outcome(status="throttled", retry_in=1)
    try:
        _upload_if_needed(message)
    except MediaError as exc:
        result = SendResult(
            outcome=Send.RETRY if exc.retryable else Send.REFUSED,
            title=str(exc)[:500],
            words="The file could not be uploaded to WhatsApp."
            + (" It will be retried." if exc.retryable else ""),
            category="media",
        )
    else:
        provider = get_provider(message.conversation.provider or DEFAULT_PROVIDER)
        result = provider.send(_outbound(message))
    return record_result(message.pk, result)


def _back_to_queue(message: Message, *, attempts: int) -> None:
    with transaction.atomic():
        row = Message.objects.select_for_update().get(pk=message.pk)
        if row.send_state == Message.SendState.SENDING:
            _set_state(row, Message.SendState.RETRYING, send_attempts=max(0, attempts))


def record_result(message_id: int, result: SendResult) -> Outcome:
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("conversation__lead").get(pk=message_id)
        if message.send_state != Message.SendState.SENDING:
            # A status carrying our callback resolved it while the answer was on its way (or the
            # sweep gave up on it): what Meta reported wins over what this attempt saw.
            return Outcome(status="resolved", detail={"send_state": message.send_state})
        if result.outcome is Send.ACCEPTED:
            return _accepted(message, result)
        if result.outcome is Send.RETRY:
            attempts = message.send_attempts
            if attempts < app_settings.SEND_MAX_ATTEMPTS:
                _set_state(message, Message.SendState.RETRYING, error_code=result.code[:32],
                           error_title=result.title[:500], error_words=result.words)  # fmt: skip
                delay = backoff(
                    attempts,
                    base=app_settings.SEND_RETRY_BACKOFF_SECONDS,
                    cap=app_settings.SEND_RETRY_BACKOFF_MAX_SECONDS,
                    jitter=0.3,
                    at_least=min(result.retry_after or 0, app_settings.SEND_RETRY_BACKOFF_MAX_SECONDS),
                )
                return Outcome(status="retrying", retry_in=max(1, delay))
            result = SendResult(
                outcome=Send.REFUSED, code=result.code, title=result.title, details=result.details,
                words=f"{result.words.removesuffix(' it will be retried shortly.')} Gave up after {attempts} attempts.".strip(),
                category=result.category,
            )  # fmt: skip
        if result.outcome is Send.AMBIGUOUS:
            _set_state(
                message, Message.SendState.UNKNOWN, error_title=result.title[:500], error_words=result.words
            )
            return Outcome(status="unknown")
        return _refused(message, result)


def _accepted(message: Message, result: SendResult) -> Outcome:
    from ..statuses import apply_pending

    now = timezone.now()
    fields: dict[str, Any] = {"error_code": "", "error_title": "", "error_words": ""}
    if is_placeholder(message.wamid):  # a status webhook may have resolved it first
        fields["wamid"] = result.message_id[:255]
    _set_state(message, Message.SendState.ACCEPTED, **fields)
    apply_pending(message)
    note_free_entry_point(message, now=now)
    transaction.on_commit(lambda: message_sent.send(sender=Message, message=message))
    return Outcome(status="accepted", detail={"wamid": message.wamid})


def _refused(message: Message, result: SendResult) -> Outcome:
    now = timezone.now()
    _set_state(
        message,
        Message.SendState.REFUSED,
        status=Message.Status.FAILED,
        status_timestamp=now,
        failed_at=now,
        error_code=result.code[:32],
        error_title=result.title[:500],
        error_details=result.details,
        error_words=result.words,
    )
    transaction.on_commit(
        lambda: message_failed.send(sender=Message, message=message, code=result.code, words=result.words)
    )
    return Outcome(status="refused", detail={"code": result.code, "category": result.category})


# --- statuses that find a message by our callback ---------------------------------------------------


def resolve_by_callback(callback: str, wamid: str) -> Message | None:
    """The (locked) message our callback names, given Meta's wamid if it still had a placeholder.

    Called by the status path when a status names a wamid we never learnt, because the send's
    answer was lost: the status proves Meta accepted it, so it is ``accepted`` and never resent.
    """
    if not callback.startswith(CALLBACK_PREFIX):
        return None
    try:
        pk = int(callback.removeprefix(CALLBACK_PREFIX))
    except ValueError:
        return None
    message = Message.objects.select_for_update().filter(pk=pk, direction=Message.Direction.OUTBOUND).first()
    if message is None or not is_placeholder(message.wamid):
        return None
    was_unknown = message.send_state == Message.SendState.UNKNOWN
    _set_state(message, Message.SendState.ACCEPTED, wamid=wamid[:255], error_title="", error_words="")
    if was_unknown:
        transaction.on_commit(lambda: message_sent.send(sender=Message, message=message))
    return message


# --- the free entry point -------------------------------------------------------------------------


def note_free_entry_point(message: Message, *, now: datetime) -> None:
    """A first reply within 24 h of a Click-to-WhatsApp *ad* message opens 72 free hours.

    Boosted posts (``source_type`` "post") open none (whatsapp-cloud-api.md §7.6).
    """
    conversation = message.conversation
    if conversation.free_entry_point_expires_at is not None:
        return
    ad_message = (
        Message.objects.filter(
            conversation=conversation,
            direction=Message.Direction.INBOUND,
            referral__source_type="ad",
            timestamp__gte=now - window.WINDOW,
        )
        .order_by("timestamp")
        .first()
    )
    if ad_message is None:
        return
    earlier_reply = Message.objects.filter(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        send_state=Message.SendState.ACCEPTED,
        timestamp__gte=ad_message.timestamp,
    ).exclude(pk=message.pk)
    if earlier_reply.exists():
        return
    conversation.free_entry_point_expires_at = now + window.FREE_ENTRY_POINT
    conversation.save(update_fields=["free_entry_point_expires_at"])


# --- the sweep ---------------------------------------------------------------------------------------


def sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Queue sends whose publish was lost; mark as unknown those whose worker died mid-send."""
    now = now or timezone.now()
    _, read_timeout = app_settings.SEND_TIMEOUT_SECONDS
    lost = Message.objects.filter(
        send_state=Message.SendState.QUEUED, send_updated_at__lt=now - timedelta(seconds=60)
    ).values_list("pk", flat=True)[:limit]
    # a retry the broker lost: well past the longest backoff
    late = Message.objects.filter(
        send_state=Message.SendState.RETRYING,
        send_updated_at__lt=now - timedelta(seconds=app_settings.SEND_RETRY_BACKOFF_MAX_SECONDS * 1.5 + 60),
    ).values_list("pk", flat=True)[:limit]
    requeued = sum(publish(SEND_MESSAGE, pk) for pk in [*lost, *late])
    stuck = Message.objects.filter(
        send_state=Message.SendState.SENDING,
        send_updated_at__lt=now - timedelta(seconds=2 * float(read_timeout) + 30),
    )
    unknown = stuck.update(
        send_state=Message.SendState.UNKNOWN,
        send_updated_at=now,
        error_words="The send was interrupted, so we cannot tell whether the message went out. "
        "Check with the customer before sending it again.",
    )
    return {"requeued": requeued, "unknown": unknown}
