"""Phone numbers in E.164, through ``phonenumbers``."""

from __future__ import annotations

import phonenumbers

from ..conf import app_settings


def to_e164(raw: str, *, region: str | None = None) -> str:
    """``"919876543210"`` -> ``"+919876543210"``; empty when the input is not a possible number.

    WhatsApp ids carry the country code without ``+``; a number typed by a person may not, and
    is read in ``DEFAULT_PHONE_REGION``.
    """
    digits = "".join(ch for ch in raw or "" if ch.isdigit() or ch == "+")
    if not digits:
        return ""
    candidates = [digits] if digits.startswith("+") else ["+" + digits, digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(
                candidate,
                None if candidate.startswith("+") else (region or app_settings.DEFAULT_PHONE_REGION),
            )
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""
