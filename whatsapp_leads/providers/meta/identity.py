"""Identity changes: a user's new number or new business-scoped user id (BSUID).

Meta reports them two ways, and both are accepted because the docs disagree over time:
- a ``system`` message (``user_changed_number`` with the new ``wa_id``, older docs ``new_wa_id``;
  ``user_changed_user_id`` with the new ``user_id``; 2026 docs add ``previous_user_id``);
- the ``user_id_update`` field, ``{wa_id, detail, user_id: {previous, current}, timestamp}``, sent
  as the change value itself or as a list under ``value.user_id_update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ...parsing import coerce
from ...parsing.types import Business, Contact, IdentityChange, InvalidUpdate, Update

IDENTITY_SYSTEM_TYPES = ("user_changed_number", "user_changed_user_id")


def _system(raw: dict[str, Any]) -> dict[str, Any]:
    system = raw.get("system")
    return system if isinstance(system, dict) else {}


def system_sender(raw: dict[str, Any], sender: Contact) -> Contact:
    """Who a system message is about: the user's *previous* identity, so it lands on their lead.

    ``from`` is the old number already; the old BSUID is ``previous_user_id`` when Meta sends it.
    """
    system = _system(raw)
    if coerce.text(system.get("type")) not in IDENTITY_SYSTEM_TYPES:
        return sender
    previous_user_id = coerce.text(system.get("previous_user_id"))
    new_user_id = coerce.text(system.get("user_id"))
    user_id = previous_user_id or (sender.user_id if sender.user_id != new_user_id else "")
    return Contact(
        wa_id=sender.wa_id,
        user_id=user_id,
        username=sender.username,
        name=sender.name,
    )


def system_identity_change(
    raw: dict[str, Any], *, sender: Contact, business: Business, timestamp: datetime
) -> IdentityChange | None:
    """The identity move a ``system`` message announces; None for other system messages."""
    system = _system(raw)
    reason = coerce.text(system.get("type"))
    if reason not in IDENTITY_SYSTEM_TYPES:
        return None
    new_wa_id = coerce.text(system.get("wa_id")) or coerce.text(system.get("new_wa_id"))
    new_user_id = coerce.text(system.get("user_id"))
    change = IdentityChange(
        business=business,
        reason=reason,
        previous_wa_id=sender.wa_id,
        previous_user_id=sender.user_id,
        new_wa_id=new_wa_id if new_wa_id != sender.wa_id else "",
        new_user_id=new_user_id if new_user_id != sender.user_id else "",
        detail=coerce.text(system.get("body")),
        timestamp=timestamp,
        raw=system,
    )
    return change if change.new_wa_id or change.new_user_id else None


def _pair(value: Any, flat_previous: Any) -> tuple[str, str]:
    """``{"previous", "current"}``, or a flat current value beside ``previous_user_id``."""
    if isinstance(value, dict):
        return coerce.text(value.get("previous")), coerce.text(value.get("current"))
    return coerce.text(flat_previous), coerce.text(value)


def user_id_updates(value: dict[str, Any], *, business: Business, path: str) -> Iterator[Update]:
    """Every change in a ``user_id_update`` value (one object, or a list of them)."""
    listed = value.get("user_id_update")
    items = listed if isinstance(listed, list) else [value]
    for index, item in enumerate(items):
        item_path = f"{path}.user_id_update[{index}]" if isinstance(listed, list) else path
        if not isinstance(item, dict):
            yield InvalidUpdate(reason="user_id_update item should be an object", path=item_path, raw=item)
            continue
        previous, current = _pair(item.get("user_id"), item.get("previous_user_id"))
        if not previous or not current:
            yield InvalidUpdate(
                reason="user_id_update needs the previous and the current user id", path=item_path, raw=item
            )
            continue
        stamp = item.get("timestamp")
        try:
            when = coerce.timestamp(stamp) if stamp not in (None, "") else None
        except (TypeError, ValueError) as exc:
            yield InvalidUpdate(reason=str(exc), path=item_path, raw=item)
            continue
        yield IdentityChange(
            business=business,
            reason="user_id_update",
            previous_wa_id=coerce.text(item.get("wa_id")),
            previous_user_id=previous,
            new_user_id=current if current != previous else "",
            detail=coerce.text(item.get("detail")),
            timestamp=when,
            raw=item,
        )
