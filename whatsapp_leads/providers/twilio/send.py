"""Sending through Twilio's Messages API: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, one attempt.

HTTP Basic with the Account SID and the (first) Auth Token; the form from ``payloads``. Every way
an attempt ends is one of the four outcomes of ``SendOutcome``, as for Meta: 201 with a ``sid`` is
accepted (the ``SM…`` sid becomes the message id); a refused connection, a 5xx or a 429 is retried;
Twilio's error body is looked up in ``errors`` (retry or refuse); a request that went out and got
no answer is ambiguous and never sent again by itself: the ``StatusCallback`` URL carries our
outbox id (``callback.py``), so Twilio's first status for it settles the message.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from ...conf import app_settings
from ..base import MediaError, OutboundMessage, SendOutcome, SendResult
from ..meta.send import never_connected
from . import config
from .callback import status_callback_url
from .errors import meaning
from .payloads import NotSendable, message_form

logger = logging.getLogger(__name__)
USER_AGENT = "whatsapp-leads (twilio)"
UNKNOWN_WORDS = ("Twilio did not answer in time, so we cannot tell whether the message went out. "
                 "If Twilio took it, its first delivery status will settle this by itself; "
                 "otherwise check with the customer before sending it again.")  # fmt: skip


def messages_url(account_sid: str) -> str:
    return f"{config.api_url()}/2010-04-01/Accounts/{account_sid}/Messages.json"


def _timeout() -> tuple[float, float]:
    connect, read = app_settings.SEND_TIMEOUT_SECONDS
    return float(connect), float(read)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def refusal(answer: Any, *, http_status: int, retry_after: float | None = None) -> SendResult:
    """Twilio's ``{"code", "message", "more_info", "status"}`` as a result."""
    body = answer if isinstance(answer, dict) else {}
    code = body.get("code")
    row = meaning(code)
    retryable = row.retryable or http_status == 429 or (http_status >= 500 and row.category != "auth")
    words = row.words
    if code in (None, "") and http_status >= 500:
        words = "Twilio is temporarily unavailable; it will be retried."
    elif code in (None, "") and http_status == 429:
        words = "Twilio is limiting how fast we send; it will be retried."
    return SendResult(
        outcome=SendOutcome.RETRY if retryable else SendOutcome.REFUSED,
        code=str(code) if code not in (None, "") else str(http_status),
        title=str(body.get("message") or f"HTTP {http_status}")[:500],
        details=str(body.get("more_info") or ""),
        words=words,
        category=row.category if code not in (None, "") else ("server" if retryable else "refused"),
        retry_after=retry_after,
        raw=body or None,
    )


def send_message(message: OutboundMessage) -> SendResult:
    """One attempt; never raises for anything Twilio or the network does."""
    sid, token = config.account_sid(), config.api_token()
    if not (sid and token):
        return SendResult(outcome=SendOutcome.REFUSED, words="No Twilio credentials are configured "
                          "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN); an admin must set them.", category="auth")  # fmt: skip
    sender = message.sender or config.whatsapp_from()
    if not sender:
        return SendResult(outcome=SendOutcome.REFUSED, words="No Twilio WhatsApp sender is configured "
                          "(TWILIO_WHATSAPP_FROM); an admin must set it.", category="config")  # fmt: skip
    if not message.to:
        return SendResult(outcome=SendOutcome.REFUSED, words="Twilio needs the customer's phone number; "
                          "this lead has only a WhatsApp user id.", category="request")  # fmt: skip
    try:
        form = message_form(kind=message.kind, content=message.content, sender=sender, to=message.to,
                            status_callback=status_callback_url(config.public_url(), message.callback))  # fmt: skip
    except NotSendable as exc:
        return SendResult(outcome=SendOutcome.REFUSED, words=str(exc), category="unsupported")
    except (KeyError, TypeError, ValueError) as exc:
        return SendResult(outcome=SendOutcome.REFUSED, title=f"could not build the message: {exc!r}"[:500],
                          words="This message is incomplete and could not be sent.", category="request")  # fmt: skip
    try:
        response = requests.post(messages_url(sid), data=form, auth=(sid, token), timeout=_timeout(),
                                 headers={"Accept": "application/json", "User-Agent": USER_AGENT})  # fmt: skip
    except requests.RequestException as exc:
        if never_connected(exc):
            return SendResult(outcome=SendOutcome.RETRY, title=type(exc).__name__,
                              words="Twilio could not be reached; it will be retried.", category="network")  # fmt: skip
        logger.warning(
            "twilio send from %s: no answer after the request went out: %s", sender, type(exc).__name__
        )
        return SendResult(outcome=SendOutcome.AMBIGUOUS, title=type(exc).__name__, words=UNKNOWN_WORDS,
                          category="unknown")  # fmt: skip
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.ok:
        message_sid = answer.get("sid") if isinstance(answer, dict) else None
        if isinstance(message_sid, str) and message_sid:
            return SendResult(outcome=SendOutcome.ACCEPTED, message_id=message_sid, raw=answer)
        return SendResult(outcome=SendOutcome.AMBIGUOUS, title=f"HTTP {response.status_code} without a sid",
                          words="Twilio's answer could not be read, so we cannot tell whether the message "
                          "went out. Check with the customer before sending it again.", category="unknown")  # fmt: skip
    return refusal(answer, http_status=response.status_code, retry_after=_retry_after(response))


def upload_media(*, sender: str, filename: str) -> str:
    """Twilio has no upload for WhatsApp: it fetches files from a public ``MediaUrl``."""
    raise MediaError(f"Twilio cannot send an uploaded file ({filename}); give a public link instead",
                     retryable=False)  # fmt: skip
