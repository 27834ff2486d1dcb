"""What each kind of inbound message adds beyond its text: media facts, reply links, form answers.

``stored_fields`` fills the ``Message`` row before it is inserted; ``after_store`` links replies
in both directions (a reply may arrive before the message it answers), applies a Flow form to the
lead and schedules the media download once the transaction commits.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from django.db import transaction

from ..models import Lead, Message, WebhookEvent
from ..parsing import ErrorDetail, InboundMessage, Update
from ..parsing.enums import MessageType
from . import flows, location, media
from .consent import keyword_choice
from .fitting import fit
from .outbound import contact_request


def words_only(update: Update) -> TypeGuard[InboundMessage]:
    """A text from an identified contact with nothing beyond its words (decided without the database).

    No media, reply context, form or errors, and not a STOP/START (which changes consent): the
    messages the set-based paths (``inbound_batch``, ``new_lead_batch``) may take.
    """
    if type(update) is not InboundMessage:
        return False
    if update.type != MessageType.TEXT or not update.contact.identified:
        return False
    if update.media or update.context or update.form or update.errors:
        return False
    return keyword_choice(update.text) is None


def error_dicts(errors: tuple[ErrorDetail, ...]) -> list[dict[str, str]]:
    return [{"code": e.code, "title": e.title, "message": e.message, "details": e.details} for e in errors]


def replied_wamid(message: InboundMessage) -> str:
    """The message this one answers (``context``) or reacts to (a reaction's target)."""
    if message.context and message.context.replied_to:
        return message.context.replied_to
    return str(message.details.get("reacted_to") or "") if message.type == MessageType.REACTION else ""


def stored_fields(message: InboundMessage) -> dict[str, Any]:
    """Column values for the kind-specific parts of an inbound message."""
    fields: dict[str, Any] = {
        "details": message.details,
        "errors": error_dicts(message.errors),
        "reply_to_wamid": fit(Message, "reply_to_wamid", replied_wamid(message)),  # a cut one matches nothing
    }
    context = message.context
    if context:
        fields.update(
            forwarded=context.forwarded,
            frequently_forwarded=context.frequently_forwarded,
            referred_product=context.referred_product or {},
        )
    if message.media and message.media.id:
        fields.update(
            media_sha256=fit(Message, "media_sha256", message.media.sha256),  # a cut one fails the check
            media_caption=message.media.caption,
            media_filename=fit(Message, "media_filename", message.media.filename),
            media_status=Message.MediaStatus.PENDING,
        )
    if message.form:
        fields.update(
            form_response=message.form.answers,
            flow_token=fit(Message, "flow_token", message.form.flow_token),
            form_error=message.form.error,
        )
    return fields


def link_replies(row: Message, *, only_message: bool = False) -> None:
    """Point the new message at the one it answers, and earlier-arrived replies at it.

    Only within the row's own lead: ``context.id`` is whatever the sender's payload says, and a
    wamid naming another lead's message must never put that lead's words on this lead's page.
    ``only_message``: the row is its lead's only message (a lead created by it), so no earlier
    reply can point at it and that UPDATE is skipped.
    """
    same_lead = Message.objects.filter(conversation__lead_id=row.conversation.lead_id)
    if row.reply_to_wamid:
        target = same_lead.filter(wamid=row.reply_to_wamid).only("pk").first()
        if target is not None:
            Message.objects.filter(pk=row.pk).update(reply_to=target)
            row.reply_to = target
    if not only_message or (row.reply_to_wamid == row.wamid and row.reply_to_id is None):
        same_lead.filter(reply_to_wamid=row.wamid, reply_to__isnull=True).update(reply_to=row)


def after_store(
    lead: Lead,
    row: Message,
    message: InboundMessage,
    *,
    event: WebhookEvent | None = None,
    lead_is_new: bool = False,
) -> None:
    """Everything a freshly stored inbound message implies besides the lead and its thread.

    ``lead_is_new``: this message created the lead, so it is the lead's only message.
    """
    link_replies(row, only_message=lead_is_new)
    contact_request.apply_shared_contact(lead, row)  # the answer to our request_contact_info
    if message.form is not None and "city" in flows.apply_form(lead, row, message.form):
        location.note_flow_city(lead)  # ad loop
    if message.type == MessageType.LOCATION:
        location.note_shared_location(lead, row.details)  # ad loop
    if row.media_status == Message.MediaStatus.PENDING:
        pk = row.pk
        transaction.on_commit(lambda: media.schedule_download(pk))
