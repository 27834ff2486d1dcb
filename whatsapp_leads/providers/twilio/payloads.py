"""The outbox's message -> Twilio's Messages API form (``From``, ``To``, ``Body`` or ``ContentSid``...).

Twilio's WhatsApp channel sends free text (``Body``), a file from a public URL (``MediaUrl`` with
the caption as ``Body``) and Content API templates (``ContentSid`` with ``ContentVariables``, a
JSON object of the template's variables). Since 1 Apr 2025 a template sent as ``Body`` outside the
window fails (63016), so a template always goes by its Content SID. Other kinds (reply buttons,
lists, reactions) need Content API templates of their own and are refused with words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import config

UNSUPPORTED = {
    "buttons": "Reply buttons cannot be sent through Twilio here; send a Content API template instead.",
    "list": "List messages cannot be sent through Twilio here; send a Content API template instead.",
    "reaction": "Reactions cannot be sent through Twilio.",
    "request_contact_info": "Contact requests cannot be sent through Twilio.",
}


class NotSendable(ValueError):
    """The message cannot be expressed in Twilio's API; ``str(exc)`` is the rep's words."""


def channel(address: str) -> str:
    """``+919876543210`` -> ``whatsapp:+919876543210`` (an address already prefixed is kept)."""
    address = address.strip()
    if address.startswith(config.CHANNEL_PREFIX):
        return address
    if address and address[0].isdigit():
        address = "+" + address
    return config.CHANNEL_PREFIX + address


def content_sid(content: Mapping[str, Any]) -> str:
    """The template's Content SID: given, from ``TWILIO_CONTENT_SIDS``, or the name when it is one."""
    given = str(content.get("content_sid") or "").strip()
    if given:
        return given
    name, language = str(content.get("name") or ""), str(content.get("language") or "")
    table = config.content_sids()
    sid = table.get(f"{name}:{language}") or table.get(name) or ""
    if not sid and name.startswith("HX"):
        sid = name
    return str(sid)


def content_variables(content: Mapping[str, Any]) -> dict[str, str]:
    """``{"1": "Asha", "2": "8.4%"}`` from the body parameters (positional), or by ``parameter_name``."""
    given = content.get("content_variables")
    if isinstance(given, Mapping):
        return {str(k): str(v) for k, v in given.items()}
    values: dict[str, str] = {}
    position = 0
    for component in content.get("components") or ():
        if not isinstance(component, Mapping) or str(component.get("type", "")).lower() != "body":
            continue
        for parameter in component.get("parameters") or ():
            if not isinstance(parameter, Mapping):
                continue
            position += 1
            key = str(parameter.get("parameter_name") or position)
            values[key] = str(parameter.get("text", ""))
    return values


def message_form(*, kind: str, content: Mapping[str, Any], sender: str, to: str,
                 status_callback: str = "") -> dict[str, str]:  # fmt: skip
    """The POST form of one send; raises ``NotSendable`` with the rep's words."""
    if kind in UNSUPPORTED:
        raise NotSendable(UNSUPPORTED[kind])
    form = {"From": channel(sender), "To": channel(to)}
    if kind == "text":
        form["Body"] = str(content["body"])
    elif kind == "template":
        sid = content_sid(content)
        if not sid:
            raise NotSendable(
                f"The template {content.get('name')!s} has no Twilio Content SID; an admin must add it "
                "to WHATSAPP_LEADS['TWILIO_CONTENT_SIDS']."
            )
        form["ContentSid"] = sid
        variables = content_variables(content)
        if variables:
            form["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
    elif kind in {"image", "document"}:
        link = str(content.get("link") or "")
        if not link:
            raise NotSendable("Twilio sends files from a public link; give the file's URL.")
        form["MediaUrl"] = link
        caption = str(content.get("caption") or "")
        if caption:
            form["Body"] = caption
    else:
        raise NotSendable(f"A {kind} message cannot be sent through Twilio.")
    if status_callback:
        form["StatusCallback"] = status_callback
    return form
