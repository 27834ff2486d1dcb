"""The Twilio settings, read from ``WHATSAPP_LEADS`` on every call (so ``override_settings`` applies).

``TWILIO_ACCOUNT_SID`` (``AC…``), ``TWILIO_AUTH_TOKENS`` (several while one is rotated; the first
is the one used for API calls), ``TWILIO_API_URL`` (Twilio's, or a local fake in tests),
``TWILIO_WHATSAPP_FROM`` (our ``whatsapp:+…`` sender), ``TWILIO_PUBLIC_URL`` (the webhook's URL as
typed into Twilio's console, for servers behind a proxy or TLS terminator) and
``TWILIO_CONTENT_SIDS`` (template name, or ``name:language``, to a Content API ``HX…`` SID).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...conf import app_settings

DEFAULT_API_URL = "https://api.twilio.com"
CHANNEL_PREFIX = "whatsapp:"


def account_sid() -> str:
    return str(app_settings.TWILIO_ACCOUNT_SID or "").strip()


def auth_tokens() -> list[str]:
    """Every configured token, in order; a comma-separated string is accepted too."""
    raw = app_settings.TWILIO_AUTH_TOKENS
    if isinstance(raw, str):
        raw = raw.split(",")
    return [str(token).strip() for token in raw or () if token and str(token).strip()]


def api_token() -> str:
    """The token API calls authenticate with: the first one (the current token while rotating)."""
    return next(iter(auth_tokens()), "")


def api_url() -> str:
    return (str(app_settings.TWILIO_API_URL or "").strip() or DEFAULT_API_URL).rstrip("/")


def public_url() -> str:
    return str(app_settings.TWILIO_PUBLIC_URL or "").strip()


def whatsapp_from() -> str:
    """Our sender as Twilio names it (``whatsapp:+14155550199``); empty when not configured."""
    value = str(app_settings.TWILIO_WHATSAPP_FROM or "").strip()
    if not value:
        return ""
    return value if value.startswith(CHANNEL_PREFIX) else CHANNEL_PREFIX + value


def content_sids() -> Mapping[str, str]:
    raw = app_settings.TWILIO_CONTENT_SIDS
    return raw if isinstance(raw, Mapping) else {}
