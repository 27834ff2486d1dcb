"""The outbox's message shapes written as Meta's Cloud API JSON (whatsapp-cloud-api.md §7.1–7.2).

One function per kind; ``message_body`` adds the envelope: ``to`` for a phone, ``recipient`` for
a business-scoped user id (never a BSUID in ``to``: Meta drops it silently), our callback string
and an optional quoted reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..base import OutboundMessage


def _text(c: Mapping[str, Any]) -> dict[str, Any]:
    return {"text": {"preview_url": bool(c.get("preview_url", False)), "body": str(c["body"])}}


def _template(c: Mapping[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = {"name": str(c["name"]), "language": {"code": str(c["language"])}}
    if c.get("components"):
        template["components"] = list(c["components"])
    return {"template": template}


def _media(kind: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def build(c: Mapping[str, Any]) -> dict[str, Any]:
        media: dict[str, Any] = {"id": str(c["media_id"])} if c.get("media_id") else {"link": str(c["link"])}
        if c.get("caption"):
            media["caption"] = str(c["caption"])
        if kind == "document" and c.get("filename"):
            media["filename"] = str(c["filename"])
        return {kind: media}

    return build


def _interactive(c: Mapping[str, Any], *, type: str, action: dict[str, Any]) -> dict[str, Any]:
    interactive: dict[str, Any] = {"type": type, "body": {"text": str(c["body"])}, "action": action}
    if c.get("header"):
        interactive["header"] = {"type": "text", "text": str(c["header"])}
    if c.get("footer"):
        interactive["footer"] = {"text": str(c["footer"])}
    return {"interactive": interactive}


def _buttons(c: Mapping[str, Any]) -> dict[str, Any]:
    buttons = [
        {"type": "reply", "reply": {"id": str(b["id"]), "title": str(b["title"])}} for b in c["buttons"]
    ]
    return _interactive(c, type="button", action={"buttons": buttons})


def _list(c: Mapping[str, Any]) -> dict[str, Any]:
    sections = []
    for section in c["sections"]:
        rows = []
        for row in section["rows"]:
            item = {"id": str(row["id"]), "title": str(row["title"])}
            if row.get("description"):
                item["description"] = str(row["description"])
            rows.append(item)
        sections.append({"title": str(section.get("title", "")), "rows": rows})
    return _interactive(c, type="list", action={"button": str(c["button"]), "sections": sections})


def _contact_request(c: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "interactive": {
            "type": "request_contact_info",
            "body": {"text": str(c["body"])},
            "action": {"name": "request_contact_info"},
        }
    }


def _reaction(c: Mapping[str, Any]) -> dict[str, Any]:
    return {"reaction": {"message_id": str(c["message_id"]), "emoji": str(c.get("emoji", ""))}}


# outbox kind -> (Meta's type, builder)
BUILDERS: dict[str, tuple[str, Callable[[Mapping[str, Any]], dict[str, Any]]]] = {
    "text": ("text", _text),
    "template": ("template", _template),
    "image": ("image", _media("image")),
    "document": ("document", _media("document")),
    "buttons": ("interactive", _buttons),
    "list": ("interactive", _list),
    "request_contact_info": ("interactive", _contact_request),
    "reaction": ("reaction", _reaction),
}


def message_body(message: OutboundMessage) -> dict[str, Any]:
    """The JSON body of ``POST /{phone_number_id}/messages`` for ``message``; KeyError for an unknown kind."""
    meta_type, build = BUILDERS[message.kind]
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if message.to:
        body["to"] = message.to
    elif message.recipient:
        body["recipient"] = message.recipient
    else:
        raise ValueError("the message has neither a phone (to) nor a business-scoped user id (recipient)")
    body["type"] = meta_type
    body.update(build(message.content))
    if message.reply_to and message.kind != "reaction":
        body["context"] = {"message_id": message.reply_to}
    if message.callback:
        body["biz_opaque_callback_data"] = message.callback[:512]
    return body
