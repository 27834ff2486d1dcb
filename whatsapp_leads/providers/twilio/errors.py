"""Twilio's error codes in words for a sales rep, with what retrying can do about them.

One table, as Meta's ``errors.py``: the code (an ``ErrorCode`` on a failed status callback, or
``code`` in the Messages API's error body) to plain words, a category the outbox and the admin
share with Meta's (window, opt_out, not_on_whatsapp, template, auth, rate_limit, ...), and whether
a later attempt may succeed. Codes from https://www.twilio.com/docs/api/errors and the WhatsApp
error-code mapping (whatsapp-cloud-api.md §11.6).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Meaning:
    words: str
    category: str
    retryable: bool = False


UNKNOWN = Meaning("Twilio refused the message.", "refused")

CODES: dict[str, Meaning] = {
    "63016": Meaning(
        "The 24-hour window is closed, so only an approved template can be sent now "
        "(Twilio refuses free text and templates sent as text outside the window).",
        "window",
    ),
    "63024": Meaning("This number cannot receive WhatsApp messages (invalid recipient).", "not_on_whatsapp"),
    "63003": Meaning("Twilio could not reach this number on WhatsApp.", "not_on_whatsapp"),
    "63018": Meaning("WhatsApp is limiting how fast we send; it will be retried.", "rate_limit", True),
    "20429": Meaning("Twilio is limiting how fast we send; it will be retried.", "rate_limit", True),
    "63032": Meaning(
        "WhatsApp did not deliver it: this customer is part of a Meta experiment that limits "
        "marketing messages.",
        "opt_out",
    ),
    "63049": Meaning("Meta chose not to deliver this marketing message to the customer.", "opt_out"),
    "21610": Meaning("The customer unsubscribed (replied STOP); they cannot be messaged.", "opt_out"),
    "63062": Meaning(
        "The Marketing Messages API terms are not accepted for this account; an admin must accept them.",
        "config",
    ),
    "63101": Meaning(
        "The WhatsApp Business Account is invalid or not shared with Twilio; an admin must fix it.", "config"
    ),
    "63007": Meaning(
        "Our WhatsApp sender is not set up in Twilio (TWILIO_WHATSAPP_FROM); an admin must fix it.", "config"
    ),
    "63051": Meaning("Meta has locked our WhatsApp sender; an admin must contact Twilio.", "config"),
    "21654": Meaning("The template's variables were sent without its Content SID.", "template"),
    "21656": Meaning("The template's variables are not valid for this template.", "template"),
    "21211": Meaning("The customer's number is not a valid phone number.", "not_on_whatsapp"),
    "20003": Meaning(
        "Twilio refused our credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN); an admin must fix them.",
        "auth",
    ),
    "20404": Meaning("Twilio does not know this account or resource (TWILIO_ACCOUNT_SID).", "config"),
    "30003": Meaning("The customer's phone was unreachable; WhatsApp gave up delivering it.", "unreachable"),
    "30007": Meaning("The message was filtered as spam and not delivered.", "refused"),
    "30008": Meaning("WhatsApp could not deliver it, for an unknown reason.", "unknown"),
}


def meaning(code: object) -> Meaning:
    """The row for ``code`` (a number or a string); an unknown code reads as a plain refusal."""
    key = str(code).strip() if code not in (None, "") else ""
    return CODES.get(key, UNKNOWN)
