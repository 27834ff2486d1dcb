"""WhatsApp Flows: the answers of a form filled in inside the chat (``interactive.nfm_reply``).

Meta sends the answers as a JSON *string* (``response_json``) that must be decoded a second time.
A string that is not a JSON object is not fatal: the reply comes back with ``error`` set, the
message is stored with that error, and the rest of the payload carries on.
"""

from __future__ import annotations

import json
from typing import Any

from ...parsing import coerce
from ...parsing.types import FormReply

FORM_REPLY_TYPE = "nfm_reply"
FLOW_TOKEN_FIELD = "flow_token"  # noqa: S105 (a field name, not a secret)


def _decode(raw: Any) -> tuple[dict[str, Any], str]:
    """(answers, error). Tolerates an already-decoded object, which some relays send."""
    if raw is None or raw == "":
        return {}, "the form reply has no answers (response_json is missing)"
    if isinstance(raw, dict):
        return raw, ""
    if not isinstance(raw, str):
        return {}, f"response_json should be a JSON string, got {type(raw).__name__}"
    try:
        answers = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return {}, f"response_json is not valid JSON: {exc}"
    if not isinstance(answers, dict):
        return {}, f"response_json should hold a JSON object, got {type(answers).__name__}"
    return answers, ""


def parse_form_reply(message: dict[str, Any]) -> FormReply | None:
    """The form answers of an ``interactive`` message; None when it is not a form reply."""
    interactive = message.get("interactive")
    if not isinstance(interactive, dict) or interactive.get("type") != FORM_REPLY_TYPE:
        return None
    reply = interactive.get(FORM_REPLY_TYPE)
    if not isinstance(reply, dict):
        return FormReply(error="the form reply object (nfm_reply) is missing")
    answers, error = _decode(reply.get("response_json"))
    token = coerce.text(answers.get(FLOW_TOKEN_FIELD))
    return FormReply(
        name=coerce.text(reply.get("name")),
        body=coerce.text(reply.get("body")),
        flow_token=token,
        answers={key: value for key, value in answers.items() if key != FLOW_TOKEN_FIELD},
        error=error,
    )
