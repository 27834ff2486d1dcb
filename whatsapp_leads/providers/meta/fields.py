"""Webhook fields other than ``messages``: consent, identity updates and account notices.

``user_preferences`` and ``user_id_update`` concern a person and become typed updates. Every
other field (templates, account, number quality, and fields Meta adds later) is kept as an
``AccountNotice`` with one readable line from the ``SUMMARIES`` table; a field without an entry
reads as ``"<field>: <event>"``, so nothing is dropped and nothing raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from ...parsing import coerce
from ...parsing.types import AccountNotice, Business, ConsentChange, Contact, InvalidUpdate, Update
from . import echoes
from .identity import user_id_updates

Summary = Callable[[dict[str, Any]], str]


def _join(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def _template_status(v: dict[str, Any]) -> str:
    name = coerce.text(v.get("message_template_name")) or f"#{coerce.text(v.get('message_template_id'))}"
    language = coerce.text(v.get("message_template_language"))
    reason = coerce.text(v.get("reason")) or coerce.text(coerce.obj(v, "rejection_info").get("reason"))
    head = (
        f"Template '{name}'{f' ({language})' if language else ''} {coerce.text(v.get('event')) or 'updated'}"
    )
    return _join(head, f"— {reason}" if reason and reason.upper() != "NONE" else "")


def _template_quality(v: dict[str, Any]) -> str:
    name = coerce.text(v.get("message_template_name")) or f"#{coerce.text(v.get('message_template_id'))}"
    previous, new = coerce.text(v.get("previous_quality_score")), coerce.text(v.get("new_quality_score"))
    return f"Template '{name}' quality {previous or '?'} -> {new or '?'}"


def _account_update(v: dict[str, Any]) -> str:
    event = coerce.text(v.get("event")) or "updated"
    restrictions = v.get("restriction_info")
    restricted = ""
    if isinstance(restrictions, list):
        kinds = [coerce.text(r.get("restriction_type")) for r in restrictions if isinstance(r, dict)]
        restricted = ", ".join(k for k in kinds if k)
    violation = coerce.text(coerce.obj(v, "violation_info").get("violation_type"))
    ban = coerce.text(coerce.obj(v, "ban_info").get("waba_ban_state"))
    detail = _join(restricted, violation, ban, sep="; ")
    return f"Account {event}{f': {detail}' if detail else ''}"


def _number_quality(v: dict[str, Any]) -> str:
    number = coerce.text(v.get("display_phone_number"))
    event = coerce.text(v.get("event")) or "updated"
    old, new = (
        coerce.text(v.get("old_limit")),
        coerce.text(v.get("max_daily_conversations_per_business") or v.get("current_limit")),
    )
    limit = f"limit {old} -> {new}" if old and new else (f"limit {new}" if new else "")
    return _join(f"Number {number}:" if number else "Business number:", event, f"({limit})" if limit else "")


def _number_name(v: dict[str, Any]) -> str:
    decision = coerce.text(v.get("decision")) or "updated"
    return f"Display name '{coerce.text(v.get('requested_verified_name'))}' {decision}"


SUMMARIES: dict[str, Summary] = {
    "message_template_status_update": _template_status,
    "message_template_quality_update": _template_quality,
    "account_update": _account_update,
    "phone_number_quality_update": _number_quality,
    "phone_number_name_update": _number_name,
}


def summarize(field_name: str, value: dict[str, Any]) -> str:
    """One readable line for an account notice; never raises."""
    summary = SUMMARIES.get(field_name)
    if summary is not None:
        # an odd value must not lose the notice; the raw value is stored beside it
        with contextlib.suppress(Exception):
            return summary(value)
    event = coerce.text(value.get("event"))
    return f"{field_name}: {event}" if event else field_name


def _consent_contact(item: dict[str, Any], contacts: list[Any]) -> Contact:
    wa_id, user_id = coerce.text(item.get("wa_id")), coerce.text(item.get("user_id"))
    if not (wa_id or user_id) and len(contacts) == 1 and isinstance(contacts[0], dict):
        wa_id, user_id = coerce.text(contacts[0].get("wa_id")), coerce.text(contacts[0].get("user_id"))
    return Contact(wa_id=wa_id, user_id=user_id)


def user_preferences(value: dict[str, Any], *, business: Business, path: str) -> Iterator[Update]:
    """Each marketing stop / resume; its ``timestamp`` is an integer (Unix seconds)."""
    items = value.get("user_preferences")
    contacts = raw if isinstance(raw := value.get("contacts"), list) else []
    if not isinstance(items, list):
        yield InvalidUpdate(reason="user_preferences should be a list", path=path, raw=value)
        return
    for index, item in enumerate(items):
        item_path = f"{path}.user_preferences[{index}]"
        if not isinstance(item, dict):
            yield InvalidUpdate(reason="user_preferences item should be an object", path=item_path, raw=item)
            continue
        try:
            stamp = item.get("timestamp")
            when = coerce.timestamp(stamp) if stamp not in (None, "") else None
        except (TypeError, ValueError) as exc:
            yield InvalidUpdate(reason=str(exc), path=item_path, raw=item)
            continue
        yield ConsentChange(
            business=business,
            contact=_consent_contact(item, contacts),
            category=coerce.text(item.get("category")),
            value=coerce.text(item.get("value")).lower(),
            detail=coerce.text(item.get("detail")),
            timestamp=when,
            raw=item,
        )


def parse_field_change(
    field_name: str,
    value: dict[str, Any],
    *,
    business: Business,
    path: str,
    occurred: Any,
) -> Iterator[Update]:
    """Updates for one change whose field is not ``messages``."""
    if field_name == "user_preferences":
        yield from user_preferences(value, business=business, path=path)
        return
    if field_name == "user_id_update":
        yield from user_id_updates(value, business=business, path=path)
        return
    if field_name == echoes.FIELD and value.get("message_echoes"):
        yield from echoes.message_echoes(value, business=business, path=path)
        return
    stamp = occurred if occurred not in (None, "") else value.get("timestamp")
    try:
        when = coerce.timestamp(stamp) if stamp not in (None, "") else None
    except (TypeError, ValueError):
        when = None  # a notice is still worth keeping without Meta's time
    yield AccountNotice(
        business=business,
        field=field_name,
        event=coerce.text(value.get("event")),
        summary=summarize(field_name, value),
        occurred_at=when,
        raw=value,
    )
