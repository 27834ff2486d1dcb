"""Meta Cloud API webhook JSON -> typed updates.

Walks every entry, change, message, status and error (Meta batches up to 1000 updates in one
POST). A part that cannot be understood becomes an ``InvalidUpdate`` with the reason, and the
rest of the payload is still parsed: one bad message never hides its neighbours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...parsing import coerce
from ...parsing.enums import MEDIA_TYPES, DeliveryStatus, MessageType
from ...parsing.errors import PermanentError
from ...parsing.types import (
    AccountNotice,
    Business,
    Contact,
    ErrorDetail,
    InboundMessage,
    InvalidUpdate,
    Media,
    MessageContext,
    MessageStatus,
    Referral,
    Update,
)
from .billing import parse_billing
from .fields import parse_field_change
from .flows import parse_form_reply
from .identity import system_identity_change, system_sender
from .kinds import message_details
from .text import readable_text

# value keys under field "messages" and what each holds
MESSAGE_LIST_KEYS = ("messages", "statuses", "errors")


class PayloadError(PermanentError, ValueError):
    """The payload as a whole is not a WhatsApp webhook."""


# Meta sends Unix seconds, usually as a string ("1749416383"), sometimes as a number.
parse_timestamp = coerce.timestamp


def parse_business(entry: dict[str, Any], value: dict[str, Any]) -> Business:
    metadata = coerce.required_obj(value.get("metadata"), "metadata")
    return Business(
        provider="meta",
        waba_id=coerce.required_text(entry.get("id")),
        phone_number_id=coerce.required_text(metadata.get("phone_number_id")),
        display_phone_number=coerce.required_text(metadata.get("display_phone_number")),
    )


def parse_contact(raw: dict[str, Any]) -> Contact:
    profile = coerce.required_obj(raw.get("profile"), "contacts[].profile")
    return Contact(
        wa_id=coerce.required_text(raw.get("wa_id")),
        user_id=coerce.required_text(raw.get("user_id")),
        username=coerce.required_text(profile.get("username")),
        name=coerce.required_text(profile.get("name")),
    )


def parse_referral(raw: Any) -> Referral | None:
    if not raw:
        return None
    raw = coerce.required_obj(raw, "referral")
    welcome = raw.get("welcome_message")
    image = raw.get("image")
    image_url = coerce.required_text(raw.get("image_url"))
    if not image_url and isinstance(image, dict):  # older On-Premises shape: "image": {"id": ...}
        image_url = coerce.required_text(image.get("url") or image.get("link"))
    return Referral(
        source_id=coerce.required_text(raw.get("source_id")),
        source_type=coerce.required_text(raw.get("source_type")),
        source_url=coerce.http_url(raw.get("source_url")),
        headline=coerce.required_text(raw.get("headline")),
        body=coerce.required_text(raw.get("body")),
        media_type=coerce.required_text(raw.get("media_type")),
        image_url=coerce.http_url(image_url),
        video_url=coerce.http_url(raw.get("video_url")),
        thumbnail_url=coerce.http_url(raw.get("thumbnail_url")),
        ctwa_clid=coerce.required_text(raw.get("ctwa_clid")),
        welcome_text=coerce.required_text(welcome.get("text")) if isinstance(welcome, dict) else "",
        raw=raw,
    )


def parse_media(kind: str, raw: Any) -> Media | None:
    if kind not in MEDIA_TYPES or not isinstance(raw, dict):
        return None
    return Media(
        id=coerce.required_text(raw.get("id")),
        mime_type=coerce.required_text(raw.get("mime_type")),
        sha256=coerce.required_text(raw.get("sha256")),
        caption=coerce.required_text(raw.get("caption")),
        filename=coerce.required_text(raw.get("filename")),
    )


def parse_context(raw: Any) -> MessageContext | None:
    if not raw:
        return None
    raw = coerce.required_obj(raw, "context")
    product = raw.get("referred_product")
    return MessageContext(
        replied_to=coerce.required_text(raw.get("id")),
        forwarded=raw.get("forwarded") is True,
        frequently_forwarded=raw.get("frequently_forwarded") is True,
        referred_product=product if isinstance(product, dict) else None,
    )


def parse_errors(raw: Any) -> tuple[ErrorDetail, ...]:
    errors = []
    for item in coerce.required_list(raw, "errors"):
        if not isinstance(item, dict):
            continue
        data = item.get("error_data")
        errors.append(
            ErrorDetail(
                code=coerce.required_text(item.get("code")),
                title=coerce.required_text(item.get("title")),
                message=coerce.required_text(item.get("message")),
                details=coerce.required_text(data.get("details")) if isinstance(data, dict) else "",
            )
        )
    return tuple(errors)


def _contacts_by_id(value: dict[str, Any]) -> tuple[dict[str, Contact], list[Contact]]:
    by_id: dict[str, Contact] = {}
    ordered: list[Contact] = []
    for raw in coerce.required_list(value.get("contacts"), "contacts"):
        if not isinstance(raw, dict):
            continue
        contact = parse_contact(raw)
        ordered.append(contact)
        for key in (contact.wa_id, contact.user_id):
            if key:
                by_id.setdefault(key, contact)
    return by_id, ordered


def _sender(raw: dict[str, Any], contacts: dict[str, Contact], ordered: list[Contact]) -> Contact:
    """The message's sender, merging ``from``/``from_user_id`` with its ``contacts[]`` profile."""
    wa_id = coerce.required_text(raw.get("from"))
    user_id = coerce.required_text(raw.get("from_user_id"))
    profile = contacts.get(user_id) or contacts.get(wa_id)
    if profile is None and len(ordered) == 1:
        profile = ordered[0]
    profile = profile or Contact()
    return Contact(
        wa_id=wa_id or profile.wa_id,
        user_id=user_id or profile.user_id,
        username=profile.username,
        name=profile.name,
    )


def parse_message(
    raw: Any, business: Business, contacts: dict[str, Contact], ordered: list[Contact]
) -> InboundMessage:
    raw = coerce.required_obj(raw, "message")
    wamid = coerce.required_text(raw.get("id"))
    if not wamid:
        raise ValueError("message has no id")
    kind = coerce.required_text(raw.get("type")) or MessageType.UNKNOWN
    sender = _sender(raw, contacts, ordered)
    if kind == MessageType.SYSTEM:
        sender = system_sender(raw, sender)
    if not sender.identified:
        raise ValueError(f"message {wamid} has neither 'from' nor 'from_user_id'")
    return InboundMessage(
        business=business,
        contact=sender,
        wamid=wamid,
        timestamp=parse_timestamp(raw.get("timestamp")),
        type=kind,
        text=readable_text(kind, raw),
        media=parse_media(kind, raw.get(kind)),
        referral=parse_referral(raw.get("referral")),
        context=parse_context(raw.get("context")),
        errors=parse_errors(raw.get("errors")),
        details=message_details(kind, raw),
        form=parse_form_reply(raw) if kind == MessageType.INTERACTIVE else None,
        raw=raw,
    )


def parse_message_updates(
    raw: Any, business: Business, contacts: dict[str, Contact], ordered: list[Contact]
) -> list[Update]:
    """The message, then the identity move a ``system`` message announces (applied after it, so
    the message still finds the lead under the old identity)."""
    message = parse_message(raw, business, contacts, ordered)
    if message.type != MessageType.SYSTEM:
        return [message]
    change = system_identity_change(
        message.raw,
        sender=message.contact,
        business=business,
        timestamp=message.timestamp,
    )
    return [message, change] if change else [message]


def parse_status(raw: Any, business: Business) -> MessageStatus:
    raw = coerce.required_obj(raw, "status")
    wamid = coerce.required_text(raw.get("id"))
    if not wamid:
        raise ValueError("status has no message id")
    status = coerce.required_text(raw.get("status")).lower()
    pricing = raw.get("pricing")
    conversation = raw.get("conversation")
    errors = raw.get("errors")
    return MessageStatus(
        business=business,
        wamid=wamid,
        status=_DELIVERY_STATUS.get(status) or DeliveryStatus(status),
        timestamp=parse_timestamp(raw.get("timestamp")),
        recipient_id=coerce.required_text(raw.get("recipient_id")),
        recipient_user_id=coerce.required_text(raw.get("recipient_user_id")),
        errors=parse_errors(errors) if errors is not None else (),
        biz_opaque_callback_data=coerce.required_text(raw.get("biz_opaque_callback_data")),
        billing=parse_billing(pricing, conversation) if pricing or conversation else None,
        raw=raw,
    )


# The words Meta sends, looked up without the Enum call (statuses are most of the traffic).
_DELIVERY_STATUS: dict[str, DeliveryStatus] = {member.value: member for member in DeliveryStatus}


def _value_errors(value: dict[str, Any], business: Business) -> Iterator[Update]:
    for raw in coerce.required_list(value.get("errors"), "errors"):
        (error,) = parse_errors([raw]) or (ErrorDetail(),)
        yield AccountNotice(
            business=business,
            field="errors",
            event=error.code,
            summary=f"Error {error.code}: {error.title or error.message}".strip(": "),
            raw=raw if isinstance(raw, dict) else {"value": raw},
        )


def _each(items: list[Any], path: str, build: Callable[[Any], Update | list[Update]]) -> list[Update]:
    updates: list[Update] = []
    for index, item in enumerate(items):
        try:
            built = build(item)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            updates.append(InvalidUpdate(reason=str(exc), path=f"{path}[{index}]", raw=item))
            continue
        if isinstance(built, list):
            updates.extend(built)
        else:
            updates.append(built)
    return updates


def _statuses(items: list[Any], path: str, business: Business) -> list[Update]:
    """``_each`` over statuses with ``parse_status`` called directly (most webhooks are one status)."""
    updates: list[Update] = []
    for index, item in enumerate(items):
        try:
            updates.append(parse_status(item, business))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            updates.append(InvalidUpdate(reason=str(exc), path=f"{path}[{index}]", raw=item))
    return updates


def parse_messages_change(entry: dict[str, Any], value: dict[str, Any], path: str) -> Iterator[Update]:
    business = parse_business(entry, value)
    contacts, ordered = _contacts_by_id(value)
    messages = coerce.required_list(value.get("messages"), "messages")
    statuses = coerce.required_list(value.get("statuses"), "statuses")
    if messages:
        yield from _each(
            messages, f"{path}.messages", lambda m: parse_message_updates(m, business, contacts, ordered)
        )
    if statuses:
        yield from _statuses(statuses, f"{path}.statuses", business)
    if value.get("errors") and not messages and not statuses:
        yield from _value_errors(value, business)


def parse_other_change(
    entry: dict[str, Any], field_name: str, value: dict[str, Any], path: str
) -> Iterator[Update]:
    """Fields other than ``messages``: consent and identity updates, else account notices (fields.py)."""
    yield from parse_field_change(
        field_name,
        value,
        business=parse_business(entry, value),
        path=path,
        occurred=entry.get("time"),
    )


def parse_payload(payload: Any) -> list[Update]:
    """Every update in a webhook body, in document order.

    Raises ``PayloadError`` only when the body is not a WhatsApp webhook at all; problems with a
    single message, status or change come back as ``InvalidUpdate`` items.
    """
    if not isinstance(payload, dict):
        raise PayloadError(f"payload should be a JSON object, got {type(payload).__name__}")
    obj = payload.get("object")
    if obj != "whatsapp_business_account":
        raise PayloadError(f"object is {obj!r}, expected 'whatsapp_business_account'")
    try:
        entries = coerce.required_list(payload.get("entry"), "entry")
    except TypeError as exc:
        raise PayloadError(str(exc)) from None
    updates: list[Update] = []
    for e_index, entry in enumerate(entries):
        e_path = f"entry[{e_index}]"
        if not isinstance(entry, dict):
            updates.append(InvalidUpdate(reason="entry should be an object", path=e_path, raw=entry))
            continue
        try:
            changes = coerce.required_list(entry.get("changes"), "changes")
        except TypeError as exc:
            updates.append(InvalidUpdate(reason=str(exc), path=e_path, raw=entry.get("changes")))
            continue
        for c_index, change in enumerate(changes):
            c_path = f"{e_path}.changes[{c_index}]"
            try:
                change = coerce.required_obj(change, "change")
                field_name = coerce.required_text(change.get("field"))
                value = coerce.required_obj(change.get("value"), "change value")
                if field_name == "messages":
                    updates.extend(parse_messages_change(entry, value, f"{c_path}.value"))
                else:
                    updates.extend(parse_other_change(entry, field_name or "unknown", value, c_path))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                updates.append(InvalidUpdate(reason=str(exc), path=c_path, raw=change))
    return updates
