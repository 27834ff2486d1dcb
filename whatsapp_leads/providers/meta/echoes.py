"""``smb_message_echoes``: what the business wrote from the WhatsApp Business app (coexistence).

The array is ``message_echoes``, not ``messages``; ``from`` is our number, ``to`` the user (with
``to_user_id`` in the BSUID era), and the ``<type>`` object mirrors a send payload, so the inbound
readers give its readable line (whatsapp-cloud-api.md §6.2).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...parsing import coerce
from ...parsing.types import Business, Contact, InvalidUpdate, OutboundEcho, Update
from .text import readable_text

FIELD = "smb_message_echoes"


def _echo(raw: Any, business: Business, names: dict[str, str]) -> OutboundEcho:
    raw = coerce.required_obj(raw, "message echo")
    wamid = coerce.required_text(raw.get("id"))
    if not wamid:
        raise ValueError("message echo has no id")
    to = coerce.text(raw.get("to"))
    user_id = coerce.text(raw.get("to_user_id"))
    kind = coerce.text(raw.get("type")) or "unknown"
    return OutboundEcho(
        business=business,
        contact=Contact(wa_id=to, user_id=user_id, name=names.get(to) or names.get(user_id, "")),
        wamid=wamid,
        timestamp=coerce.timestamp(raw.get("timestamp")),
        type=kind,
        text=readable_text(kind, raw),
        raw=raw,
    )


def message_echoes(value: dict[str, Any], *, business: Business, path: str) -> Iterator[Update]:
    names: dict[str, str] = {}
    for contact in coerce.items(value, "contacts"):
        name = coerce.text(coerce.obj(contact, "profile").get("name"))
        for key in (coerce.text(contact.get("wa_id")), coerce.text(contact.get("user_id"))):
            if key:
                names[key] = name
    for index, raw in enumerate(coerce.required_list(value.get("message_echoes"), "message_echoes")):
        try:
            yield _echo(raw, business, names)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            yield InvalidUpdate(reason=str(exc), path=f"{path}.message_echoes[{index}]", raw=raw)
