"""Cutting one person out of a stored Meta webhook body, for an erasure.

A Meta body batches updates: ``entry[].changes[].value`` holds lists (``contacts``, ``messages``,
``statuses``, ``user_preferences``, ``user_id_update``...) whose items each belong to one user,
or a value that is one user's update itself. An item is the person's when one of its own fields
(``from``, ``wa_id``, ``recipient_id``, ``user_id``, a message ``id``...) holds one of their
identities (never its free text: another user may write the person's number in a message); those items go, a change left without any other
person's item goes, an entry left without changes goes, and a body left without entries is
dropped (None). Anything else that still quotes an identity (another user sharing the person's
number as a contact card) has that text replaced, so the rewritten body mentions them nowhere.

Other people's items are kept exactly, so re-processing the rewritten body still rebuilds their
rows; the body is re-serialised, so it is no longer the signed original (``redacted_at``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

REPLACEMENT = "[erased]"


# Objects inside an item that name its user (``user_id_update``'s ``{"previous", "current"}``).
IDENTITY_OBJECTS = ("user_id",)


def _strings(value: Any) -> Iterable[str]:
    """The item's own scalars (``from``, ``wa_id``, ``recipient_id``, ``id``...), not its free text."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and key in IDENTITY_OBJECTS:
                yield from (
                    str(v) for v in item.values() if isinstance(v, str | int) and not isinstance(v, bool)
                )
            elif isinstance(item, str | int) and not isinstance(item, bool):
                yield str(item)


def _theirs(item: Any, wanted: list[str]) -> bool:
    return any(w in text for text in _strings(item) for w in wanted)


def _mentions(value: Any, wanted: list[str]) -> bool:
    text = json.dumps(value, ensure_ascii=False)
    return any(w in text for w in wanted)


def _scrub(value: Any, wanted: list[str]) -> Any:
    if isinstance(value, str):
        for w in wanted:
            value = value.replace(w, REPLACEMENT)
        return value
    if isinstance(value, list):
        return [_scrub(v, wanted) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, wanted) for k, v in value.items()}
    return value


def _redact_value(value: dict[str, Any], wanted: list[str]) -> dict[str, Any] | None:
    """The change's value without the person's items; None when nothing of anyone else is left."""
    if _theirs(value, wanted):
        return None  # the value is one user's update itself (user_id_update sent as the value)
    out: dict[str, Any] = {}
    removed = kept_any = False
    for key, item in value.items():
        if isinstance(item, list) and any(isinstance(x, dict) for x in item):
            kept = [x for x in item if not (isinstance(x, dict) and _theirs(x, wanted))]
            removed |= len(kept) != len(item)
            if key != "contacts":  # a contact card alone is nobody's update
                kept_any |= bool(kept)
            if kept:
                out[key] = kept
        else:
            out[key] = item
    if removed and not kept_any:
        return None
    return _scrub(out, wanted)


def redact_payload(payload: Any, wanted: list[str]) -> Any | None:
    """The decoded body without the person; None when nothing else is left in it."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return None if _mentions(payload, wanted) else payload
    entries = []
    for entry in payload["entry"]:
        if not _mentions(entry, wanted):
            entries.append(entry)
            continue
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            continue
        kept = []
        for change in changes:
            if not _mentions(change, wanted):
                kept.append(change)
                continue
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            value = _redact_value(value, wanted)
            if value is not None:
                kept.append({**change, "value": value})
        if kept:
            entries.append(_scrub({**entry, "changes": kept}, wanted))
    if not entries:
        return None
    return _scrub({**payload, "entry": entries}, wanted)


def redact_body(body: bytes, *, identities: Iterable[str]) -> bytes | None:
    """``body`` without the person's items (unchanged when it never mentions them); None to drop it."""
    wanted = sorted({i for i in identities if i}, key=len, reverse=True)
    if not any(w.encode() in body for w in wanted):
        return body
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None  # a body we cannot read cannot be cut: it goes
    redacted = redact_payload(payload, wanted)
    if redacted is None:
        return None
    return json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()
