"""System checks of the Twilio settings, run only when Twilio is in ``PROVIDERS``.

- W008: no auth token, so every Twilio webhook is refused (403).
- W009: no account SID or sender, so nothing can be sent or downloaded.
- W010: no public URL, so Twilio gets no StatusCallback and signatures behind a proxy fail.
- E016: a setting with the wrong shape (public URL not absolute, sender not ``whatsapp:+…``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.checks import Error, Warning

from ...conf import setting_label
from . import config


def twilio_issues() -> list:
    issues: list = []
    if not config.auth_tokens():
        issues.append(Warning(
            "Twilio is enabled but no auth token is configured, so every Twilio webhook will be refused with 403.",
            hint=f"Set TWILIO_AUTH_TOKEN (comma-separate several while rotating); it fills {setting_label('TWILIO_AUTH_TOKENS')}.",
            id="whatsapp_leads.W008",
        ))  # fmt: skip
    missing = [name for name, value in (("TWILIO_ACCOUNT_SID", config.account_sid()),
                                        ("TWILIO_WHATSAPP_FROM", config.whatsapp_from())) if not value]  # fmt: skip
    if missing:
        issues.append(Warning(
            f"Twilio is enabled but {' and '.join(missing)} is not set, so replies and media downloads through Twilio fail.",
            hint="Set " + ", ".join(f"{name} ({setting_label(name)})" for name in missing) + ".",
            id="whatsapp_leads.W009",
        ))  # fmt: skip
    public = config.public_url()
    if not public:
        issues.append(Warning(
            "Twilio is enabled but TWILIO_PUBLIC_URL is not set: sends carry no StatusCallback, and behind a proxy "
            "or TLS terminator the URL Twilio signed differs from the one the server sees.",
            hint=f"Set TWILIO_PUBLIC_URL ({setting_label('TWILIO_PUBLIC_URL')}) to the webhook's URL as typed into "
            "Twilio's console, e.g. https://crm.example.com/whatsapp/webhook/twilio/.",
            id="whatsapp_leads.W010",
        ))  # fmt: skip
    elif urlsplit(public).scheme not in ("http", "https") or not urlsplit(public).netloc:
        issues.append(Error(
            f"{setting_label('TWILIO_PUBLIC_URL')} is {public!r}, not an absolute URL.",
            hint="Give the full URL, e.g. https://crm.example.com/whatsapp/webhook/twilio/.",
            id="whatsapp_leads.E016",
        ))  # fmt: skip
    sender = config.whatsapp_from()
    if sender and not sender.removeprefix(config.CHANNEL_PREFIX).startswith("+"):
        issues.append(Error(
            f"{setting_label('TWILIO_WHATSAPP_FROM')} is {sender!r}; Twilio's WhatsApp sender is whatsapp:+<E.164>.",
            hint="Set TWILIO_WHATSAPP_FROM to e.g. whatsapp:+14155550199.",
            id="whatsapp_leads.E016",
        ))  # fmt: skip
    return issues
