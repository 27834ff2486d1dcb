"""Meta Cloud API webhook JSON -> typed updates.

Walks every entry, change, message, status and error (Meta batches up to 1000 updates in one
POST). A part that cannot be understood becomes an ``InvalidUpdate`` with the reason, and the
rest of the payload is still parsed: one bad message never hides its neighbours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from .billing import parse_billing
from .fields import parse_field_change
from .flows import parse_form_reply
from .identity import system_identity_change, system_sender
from .kinds import message_details
from .text import readable_text
from .types import (
    STATUS_VALUES,
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

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")

# value keys under field "messages" and what each holds
MESSAGE_LIST_KEYS = ("messages", "statuses", "errors")


class PayloadError(ValueError):
    """The payload as a whole is not a WhatsApp webhook."""


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{what} should be an object, got {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{what} should be a list, got {type(value).__name__}")
    return value


def _http_url(value: Any) -> str:
    """A URL we may show as a link: http(s) only, so a ``javascript:`` value never becomes one.

    The raw referral keeps whatever was sent; only the typed field is filtered.
    """
    url = _str(value).strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def parse_timestamp(value: Any) -> datetime:
    """Meta sends Unix seconds, usually as a string (``"1749416383"``), sometimes as a number."""
    if value is None or value == "":
        raise ValueError("timestamp is missing")
    if isinstance(value, bool):
        raise TypeError("timestamp should be Unix seconds, got a boolean")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"timestamp {value!r} is not Unix seconds") from None
    if not 0 <= seconds < 32503680000:  # year 3000
        raise ValueError(f"timestamp {value!r} is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_business(entry: dict[str, Any], value: dict[str, Any]) -> Business:
    metadata = _dict(value.get("metadata"), "metadata")
    return Business(
        waba_id=_str(entry.get("id")),
        phone_number_id=_str(metadata.get("phone_number_id")),
        display_phone_number=_str(metadata.get("display_phone_number")),
    )


def parse_contact(raw: dict[str, Any]) -> Contact:
    profile = _dict(raw.get("profile"), "contacts[].profile")
    return Contact(
        wa_id=_str(raw.get("wa_id")),
        user_id=_str(raw.get("user_id")),
        parent_user_id=_str(raw.get("parent_user_id")),
        username=_str(profile.get("username")),
        name=_str(profile.get("name")),
    )


def parse_referral(raw: Any) -> Referral | None:
    if not raw:
        return None
    raw = _dict(raw, "referral")
    welcome = raw.get("welcome_message")
    image = raw.get("image")
    image_url = _str(raw.get("image_url"))
    if not image_url and isinstance(image, dict):  # older On-Premises shape: "image": {"id": ...}
        image_url = _str(image.get("url") or image.get("link"))
    return Referral(
        source_id=_str(raw.get("source_id")),
        source_type=_str(raw.get("source_type")),
        source_url=_http_url(raw.get("source_url")),
        headline=_str(raw.get("headline")),
        body=_str(raw.get("body")),
        media_type=_str(raw.get("media_type")),
        image_url=_http_url(image_url),
        video_url=_http_url(raw.get("video_url")),
        thumbnail_url=_http_url(raw.get("thumbnail_url")),
        ctwa_clid=_str(raw.get("ctwa_clid")),
        welcome_text=_str(welcome.get("text")) if isinstance(welcome, dict) else "",
        raw=raw,
    )


def parse_media(kind: str, raw: Any) -> Media | None:
    if kind not in MEDIA_TYPES or not isinstance(raw, dict):
        return None
    return Media(
        id=_str(raw.get("id")),
        mime_type=_str(raw.get("mime_type")),
        sha256=_str(raw.get("sha256")),
        caption=_str(raw.get("caption")),
        filename=_str(raw.get("filename")),
        url=_str(raw.get("url")),
        voice=raw.get("voice") is True,
        animated=raw.get("animated") is True,
    )


def parse_context(raw: Any) -> MessageContext | None:
    if not raw:
        return None
    raw = _dict(raw, "context")
    product = raw.get("referred_product")
    return MessageContext(
        replied_to=_str(raw.get("id")),
        replied_from=_str(raw.get("from")),
        forwarded=raw.get("forwarded") is True,
        frequently_forwarded=raw.get("frequently_forwarded") is True,
        referred_product=product if isinstance(product, dict) else None,
    )


def parse_errors(raw: Any) -> tuple[ErrorDetail, ...]:
    errors = []
    for item in _list(raw, "errors"):
        if not isinstance(item, dict):
            continue
        data = item.get("error_data")
        errors.append(
            ErrorDetail(
                code=_str(item.get("code")),
                title=_str(item.get("title")),
                message=_str(item.get("message")),
                details=_str(data.get("details")) if isinstance(data, dict) else "",
                href=_str(item.get("href")),
            )
        )
    return tuple(errors)


def _contacts_by_id(value: dict[str, Any]) -> tuple[dict[str, Contact], list[Contact]]:
    by_id: dict[str, Contact] = {}
    ordered: list[Contact] = []
    for raw in _list(value.get("contacts"), "contacts"):
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
    wa_id = _str(raw.get("from"))
    user_id = _str(raw.get("from_user_id"))
    profile = contacts.get(user_id) or contacts.get(wa_id)
    if profile is None and len(ordered) == 1:
        profile = ordered[0]
    profile = profile or Contact()
    return Contact(
        wa_id=wa_id or profile.wa_id,
        user_id=user_id or profile.user_id,
        parent_user_id=_str(raw.get("from_parent_user_id")) or profile.parent_user_id,
        username=profile.username,
        name=profile.name,
    )


def parse_message(
    raw: Any, business: Business, contacts: dict[str, Contact], ordered: list[Contact]
) -> InboundMessage:
    raw = _dict(raw, "message")
    wamid = _str(raw.get("id"))
    if not wamid:
        raise ValueError("message has no id")
    kind = _str(raw.get("type")) or "unknown"
    sender = _sender(raw, contacts, ordered)
    if kind == "system":
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
        form=parse_form_reply(raw) if kind == "interactive" else None,
        raw=raw,
    )


def parse_message_updates(
    raw: Any, business: Business, contacts: dict[str, Contact], ordered: list[Contact]
) -> list[Update]:
    """The message, then the identity move a ``system`` message announces (applied after it, so
    the message still finds the lead under the old identity)."""
    message = parse_message(raw, business, contacts, ordered)
    if message.type != "system":
        return [message]
    change = system_identity_change(
        message.raw,
        sender=message.contact,
        business=business,
        wamid=message.wamid,
        timestamp=message.timestamp,
    )
    return [message, change] if change else [message]


def parse_status(raw: Any, business: Business) -> MessageStatus:
    raw = _dict(raw, "status")
    wamid = _str(raw.get("id"))
    if not wamid:
        raise ValueError("status has no message id")
    status = _str(raw.get("status")).lower()
    pricing = raw.get("pricing")
    conversation = raw.get("conversation")
    return MessageStatus(
        business=business,
        wamid=wamid,
        status=status if status in STATUS_VALUES else "unknown",
        timestamp=parse_timestamp(raw.get("timestamp")),
        recipient_id=_str(raw.get("recipient_id")),
        recipient_user_id=_str(raw.get("recipient_user_id")),
        errors=parse_errors(raw.get("errors")),
        pricing=pricing if isinstance(pricing, dict) else None,
        conversation=conversation if isinstance(conversation, dict) else None,
        biz_opaque_callback_data=_str(raw.get("biz_opaque_callback_data")),
        billing=parse_billing(pricing, conversation, parse_time=parse_timestamp),
        raw=raw,
    )


def _value_errors(value: dict[str, Any], business: Business) -> Iterator[Update]:
    for raw in _list(value.get("errors"), "errors"):
        (error,) = parse_errors([raw]) or (ErrorDetail(),)
        yield AccountNotice(
            business=business,
            field="errors",
            event=error.code,
            summary=f"Error {error.code}: {error.title or error.message}".strip(": "),
            raw=raw if isinstance(raw, dict) else {"value": raw},
        )


def _each(items: list[Any], path: str, build: Callable[[Any], Update | list[Update]]) -> Iterator[Update]:
    for index, item in enumerate(items):
        try:
            built = build(item)
            yield from built if isinstance(built, list) else (built,)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            yield InvalidUpdate(reason=str(exc), path=f"{path}[{index}]", raw=item)


def parse_messages_change(entry: dict[str, Any], value: dict[str, Any], path: str) -> Iterator[Update]:
    business = parse_business(entry, value)
    contacts, ordered = _contacts_by_id(value)
    messages = _list(value.get("messages"), "messages")
    statuses = _list(value.get("statuses"), "statuses")
    yield from _each(
        messages, f"{path}.messages", lambda m: parse_message_updates(m, business, contacts, ordered)
    )
    yield from _each(statuses, f"{path}.statuses", lambda s: parse_status(s, business))
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
        parse_time=parse_timestamp,
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
        entries = _list(payload.get("entry"), "entry")
    except TypeError as exc:
        raise PayloadError(str(exc)) from None
    updates: list[Update] = []
    for e_index, entry in enumerate(entries):
        e_path = f"entry[{e_index}]"
        if not isinstance(entry, dict):
            updates.append(InvalidUpdate(reason="entry should be an object", path=e_path, raw=entry))
            continue
        try:
            changes = _list(entry.get("changes"), "changes")
        except TypeError as exc:
            updates.append(InvalidUpdate(reason=str(exc), path=e_path, raw=entry.get("changes")))
            continue
        for c_index, change in enumerate(changes):
            c_path = f"{e_path}.changes[{c_index}]"
            try:
                change = _dict(change, "change")
                field_name = _str(change.get("field"))
                value = _dict(change.get("value"), "change value")
                if field_name == "messages":
                    updates.extend(parse_messages_change(entry, value, f"{c_path}.value"))
                else:
                    updates.extend(parse_other_change(entry, field_name or "unknown", value, c_path))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                updates.append(InvalidUpdate(reason=str(exc), path=c_path, raw=change))
    return updates
