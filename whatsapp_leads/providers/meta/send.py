"""Sending through the Cloud API: ``POST /{version}/{phone_number_id}/messages``, one attempt.

There is no retry here, on purpose: the Graph client's retries would send a customer the same
message twice when an answer is lost. Every way an attempt can end is sorted into one of four
outcomes (see ``SendOutcome``):

- *accepted*: HTTP 200 with ``messages[0].id`` (the wamid);
- *retry*: certainly not accepted: the connection was refused or never made, the server said 5xx,
  or Meta throttled us (130429, 131056, 80007, 4) — the errors table decides by code;
- *refused*: Meta's error with a code that retrying will not cure (window closed, opted out, ...);
- *ambiguous*: the request went out and no answer came back (read timeout, connection dropped
  mid-answer, an unreadable 200): Meta may have accepted it, so only a status webhook carrying our
  ``biz_opaque_callback_data`` (or a person) may decide.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import IO, Any

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ...conf import app_settings
from ...graph.client import USER_AGENT, configured_token, configured_version, redact
from ...graph.versions import Api
from ..base import MediaError, OutboundMessage, SendOutcome, SendResult
from .errors import meaning
from .payloads import message_body

logger = logging.getLogger(__name__)


def _url(path: str) -> str:
    return f"{app_settings.graph_url}/{configured_version(Api.CLOUD)}/{path.lstrip('/')}"


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": USER_AGENT}


def _timeout() -> tuple[float, float]:
    connect, read = app_settings.SEND_TIMEOUT_SECONDS
    return float(connect), float(read)


def never_connected(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached Meta: no connection was ever made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:  # requests wraps urllib3's MaxRetryError(reason=NewConnectionError(...))
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError | ConnectTimeoutError | ConnectionRefusedError):
            return True
        stack += [getattr(item, "reason", None), item.__cause__, item.__context__]
        stack += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
    return False


def refusal(body: Any, *, http_status: int) -> SendResult:
    """Meta's ``{"error": {...}}`` as a result; the table decides between refused and retry."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        if http_status >= 500:
            return SendResult(outcome=SendOutcome.RETRY, code=str(http_status), title=f"HTTP {http_status}",
                              words="WhatsApp is temporarily unavailable; it will be retried.", category="server")  # fmt: skip
        return SendResult(outcome=SendOutcome.REFUSED, code=str(http_status), title=f"HTTP {http_status}",
                          words="WhatsApp refused the message.", category="refused")  # fmt: skip
    code = error.get("code")
    raw_data = error.get("error_data")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    row = meaning(code)
    retryable = (
        row.retryable or error.get("is_transient") is True or (http_status >= 500 and row.category != "auth")
    )
    return SendResult(
        outcome=SendOutcome.RETRY if retryable else SendOutcome.REFUSED,
        code="" if code is None else str(code),
        title=str(error.get("message") or error.get("error_user_title") or "")[:500],
        details=str(data.get("details") or error.get("error_user_msg") or ""),
        words=row.words,
        category=row.category,
        raw=body,
    )


def send_message(message: OutboundMessage) -> SendResult:
    """One attempt; never raises for anything Meta or the network does."""
    token = configured_token(Api.CLOUD)
    if not token:
        return SendResult(outcome=SendOutcome.REFUSED, words="No WhatsApp access token is configured "
                          "(WHATSAPP_ACCESS_TOKEN); an admin must set it.", category="auth")  # fmt: skip
    if not message.sender:
        return SendResult(outcome=SendOutcome.REFUSED, words="No business number to send from "
                          "(WHATSAPP_PHONE_NUMBER_ID); an admin must set it.", category="config")  # fmt: skip
    try:
        body = message_body(message)
    except (KeyError, ValueError, TypeError) as exc:
        return SendResult(outcome=SendOutcome.REFUSED, title=f"could not build the message: {exc!r}"[:500],
                          words="This message is incomplete and could not be sent.", category="request")  # fmt: skip
    try:
        response = requests.post(
            _url(f"{message.sender}/messages"), json=body, headers=_headers(token), timeout=_timeout()
        )
    except requests.RequestException as exc:
        if never_connected(exc):
            return SendResult(outcome=SendOutcome.RETRY, title=type(exc).__name__,
                              words="WhatsApp could not be reached; it will be retried.", category="network")  # fmt: skip
        logger.warning(
            "send to %s: no answer after the request went out: %s", message.sender, redact(str(exc))
        )
        return SendResult(outcome=SendOutcome.AMBIGUOUS, title=type(exc).__name__,
                          words="WhatsApp did not answer in time, so we cannot tell whether the message "
                          "went out. Check with the customer before sending it again.", category="unknown")  # fmt: skip
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.ok and isinstance(answer, dict) and "error" not in answer:
        messages = answer.get("messages")
        first = (
            messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        )
        wamid = first.get("id")
        if isinstance(wamid, str) and wamid:
            return SendResult(outcome=SendOutcome.ACCEPTED, message_id=wamid, raw=answer)
    if response.ok:  # a 200 we cannot read: Meta may well have taken it
        return SendResult(outcome=SendOutcome.AMBIGUOUS, title=f"HTTP {response.status_code} without a message id",
                          words="WhatsApp's answer could not be read, so we cannot tell whether the message "
                          "went out. Check with the customer before sending it again.", category="unknown")  # fmt: skip
    return refusal(answer, http_status=response.status_code)


def upload_media(*, sender: str, file: IO[bytes], filename: str, mime_type: str) -> str:
    """``POST /{phone_number_id}/media`` (multipart); Meta's media id. Raises ``MediaError``."""
    token = configured_token(Api.CLOUD)
    if not token:
        raise MediaError("no WhatsApp access token is configured", retryable=False)
    try:
        response = requests.post(
            _url(f"{sender}/media"),
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, file, mime_type)},
            headers=_headers(token),
            timeout=_timeout(),
        )
    except requests.RequestException as exc:  # an upload is safe to repeat: it sends nobody anything
        raise MediaError(f"media upload failed: {type(exc).__name__}", retryable=True) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    media_id = answer.get("id") if isinstance(answer, dict) else None
    if response.ok and isinstance(media_id, str) and media_id:
        return media_id
    result = refusal(answer, http_status=response.status_code)
    raise MediaError(
        f"media upload refused: {result.code} {result.title}".strip(),
        retryable=result.outcome is SendOutcome.RETRY,
    )


def mark_read(*, sender: str, message_id: str) -> bool:
    """Best effort: ``{"status": "read", "message_id": ...}``; a failure is logged, never raised."""
    token = configured_token(Api.CLOUD)
    if not (token and sender and message_id):
        return False
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    try:
        response = requests.post(
            _url(f"{sender}/messages"), json=body, headers=_headers(token), timeout=_timeout()
        )
        answer: Mapping[str, Any] = response.json() if response.content else {}
    except (requests.RequestException, ValueError, json.JSONDecodeError) as exc:
        logger.info("mark as read failed for %s: %s", message_id, type(exc).__name__)
        return False
    return bool(response.ok and isinstance(answer, dict) and answer.get("success") is True)
