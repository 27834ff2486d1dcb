"""Builders for real-shaped Twilio WhatsApp webhooks (form parameters), for the simulator and tests.

Shapes follow Twilio's webhook reference (whatsapp-cloud-api.md §11.1, §11.2): ``whatsapp:``-prefixed
``From``/``To``, ``WaId``, ``ProfileName``, ``NumMedia``, the ``Referral*`` fields of a
Click-to-WhatsApp ad, and status callbacks with ``MessageStatus`` and ``ErrorCode``.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from .signature import sign

ACCOUNT_SID = "AC00000000000000000000000000000000"
OUR_NUMBER = "+14155550199"
AD_ID = "120226305854810726"
CTWA_CLID = (
    "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"
)


def sid(prefix: str = "SM") -> str:
    """A 34-character Twilio sid (``SM`` + 32 hex), random so two runs never collide."""
    return prefix + secrets.token_hex(16)


def inbound(
    *,
    phone: str = "+919876543210",
    name: str = "Asha Verma",
    text: str = "Hi, I'm interested",
    message_sid: str | None = None,
    to: str = OUR_NUMBER,
    ad_id: str | None = None,
    ctwa_clid: str | None = None,
    user_id: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """An inbound WhatsApp message; with ``ad_id``, from a Click-to-WhatsApp ad."""
    sender = f"whatsapp:{phone}" if phone else f"whatsapp:{user_id}"
    params = {
        "SmsMessageSid": "",
        "NumMedia": "0",
        "ProfileName": name,
        "MessageType": "text",
        "SmsSid": "",
        "WaId": phone.lstrip("+"),
        "SmsStatus": "received",
        "Body": text,
        "To": f"whatsapp:{to}",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid or sid(),
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    params["SmsMessageSid"] = params["SmsSid"] = params["MessageSid"]
    if not phone:
        del params["WaId"]
    if user_id:
        params["ExternalUserId"] = user_id
    if ad_id:
        params.update(referral(ad_id=ad_id, ctwa_clid=ctwa_clid or CTWA_CLID))
    params.update(extra)
    return params


def referral(*, ad_id: str = AD_ID, ctwa_clid: str = CTWA_CLID, **extra: str) -> dict[str, str]:
    return {
        "ReferralSourceId": ad_id,
        "ReferralSourceType": "ad",
        "ReferralSourceUrl": "https://fb.me/3cr4Wqqkv",
        "ReferralHeadline": "Home loans at 8.4%",
        "ReferralBody": "Get a home loan approved in 48 hours.",
        "ReferralMediaContentType": "image/jpeg",
        "ReferralMediaUrl": "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad_image.png",
        "ReferralNumMedia": "1",
        "ReferralCtwaClid": ctwa_clid,
        **extra,
    }


def media(*, message_sid: str, mime_type: str = "image/jpeg", media_sid: str | None = None,
          account_sid: str = ACCOUNT_SID) -> dict[str, str]:  # fmt: skip
    """The media parameters of a message with one file."""
    media_sid = media_sid or sid("ME")
    return {
        "NumMedia": "1",
        "MediaContentType0": mime_type,
        "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}",
    }


def status_callback(message_sid: str, status: str = "delivered", *, to: str = "+919876543210",
                    error_code: str = "", our_number: str = OUR_NUMBER) -> dict[str, str]:  # fmt: skip
    """A status callback for a message we sent."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "ChannelPrefix": "whatsapp",
        "ChannelToAddress": to,
        "From": f"whatsapp:{our_number}",
        "MessageSid": message_sid,
        "MessageStatus": status,
        "SmsSid": message_sid,
        "SmsStatus": status,
        "To": f"whatsapp:{to}",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def encode(params: dict[str, Any]) -> bytes:
    """The form body Twilio posts."""
    return urlencode(params).encode()


def signed(params: dict[str, str], *, url: str, token: str) -> tuple[bytes, str]:
    """(body, ``X-Twilio-Signature``) of posting ``params`` to ``url``."""
    return encode(params), sign(url, params.items(), token)


STATUS_WORDS = ("queued", "sent", "delivered", "read", "failed", "undelivered")


def simulated_post(
    *,
    url: str,
    token: str,
    phone: str,
    name: str,
    text: str,
    ad_id: str = "",
    ctwa_clid: str = "",
    user_id: str = "",
    message_sid: str = "",
    status_of: str = "",
    status: str = "delivered",
    error_code: str = "",
) -> tuple[dict[str, str], bytes, dict[str, str], str]:
    """(params, body, headers, label) of one simulated Twilio POST, signed for ``url``.

    ``url`` is the URL Twilio would have signed: the server's ``TWILIO_PUBLIC_URL`` when it has one.
    """
    if status_of:
        params = status_callback(status_of, status, to=phone or user_id, error_code=error_code)
        label = f"status {status} of {status_of}"
    else:
        params = inbound(phone=phone, name=name, text=text, message_sid=message_sid or None,
                         ad_id=ad_id or None, ctwa_clid=ctwa_clid or None, user_id=user_id or None)  # fmt: skip
        label = f"message {params['MessageSid']}" + (f" from ad {ad_id}" if ad_id else "")
    body, signature = signed(params, url=url, token=token)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
               "User-Agent": "TwilioProxy/1.1"}  # fmt: skip
    return params, body, headers, label
