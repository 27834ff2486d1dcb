"""Meta's Cloud API error codes as a table: retry or not, what the rep is told, which kind of problem.

Meta says to build on ``code`` (and ``error_data.details``), not on HTTP status or titles, which
"will eventually be deprecated". The retry column follows Meta's guidance (whatsapp-cloud-api.md
§7.5): only throttling, maintenance and server-side failures are tried again; everything else
needs a person or a different message. Codes not in the table fall back by range (132xxx are
template problems) and otherwise to a generic refusal that is not retried.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorMeaning:
    retryable: bool
    words: str
    category: str


# category names are the outbox's: window, opt_out, marketing_held, not_on_whatsapp, bsuid, template,
# auth, throttled, server, account, request, media, payment
TABLE: dict[int, ErrorMeaning] = {
    # throttling: certainly not accepted, try again later
    130429: ErrorMeaning(True, "WhatsApp is busy sending our messages; this one will be retried shortly.", "throttled"),
    131056: ErrorMeaning(True, "Too many messages to this person in a short time; it will be retried in a moment.", "throttled"),
    80007: ErrorMeaning(True, "The WhatsApp account's API limit was reached; it will be retried shortly.", "throttled"),
    4: ErrorMeaning(True, "The app's API limit was reached; it will be retried shortly.", "throttled"),
    131057: ErrorMeaning(True, "The WhatsApp account is in maintenance; it will be retried in a minute.", "server"),
    131000: ErrorMeaning(True, "WhatsApp had an unexpected problem; it will be retried.", "server"),
    131016: ErrorMeaning(True, "WhatsApp is temporarily unavailable; it will be retried.", "server"),
    135000: ErrorMeaning(True, "WhatsApp had an unexpected problem; it will be retried.", "server"),
    2: ErrorMeaning(True, "WhatsApp is temporarily unavailable; it will be retried.", "server"),
    # the conversation and the person
    131047: ErrorMeaning(
        False,
        "More than 24 hours have passed since the customer last wrote, so only an approved template can be sent.",
        "window",
    ),
    131026: ErrorMeaning(
        False,
        "This number cannot receive WhatsApp messages (not on WhatsApp, an old app, or they have not "
        "accepted WhatsApp's terms). Try calling instead.",
        "not_on_whatsapp",
    ),
    131049: ErrorMeaning(
        False,
        "WhatsApp held this marketing message back to limit how many a person gets; try again after 24 hours "
        "or send a utility message.",
        "marketing_held",
    ),
    130472: ErrorMeaning(
        False, "WhatsApp held this marketing message back (the customer is in a WhatsApp experiment).", "marketing_held"
    ),
    131050: ErrorMeaning(
        False, "The customer has stopped marketing messages from us; only service and utility messages reach them.", "opt_out"
    ),
    131062: ErrorMeaning(
        False,
        "This message cannot be sent to a customer known only by their WhatsApp user id; ask for their phone "
        "number first.",
        "bsuid",
    ),
    131048: ErrorMeaning(False, "Too many people blocked or reported our messages recently; sending is paused.", "account"),
    131021: ErrorMeaning(False, "The recipient is our own business number.", "request"),
    131030: ErrorMeaning(False, "This number is not on the test allow-list of the WhatsApp app.", "request"),
    131031: ErrorMeaning(False, "The WhatsApp account is locked; an admin must check it.", "account"),
    368: ErrorMeaning(False, "The WhatsApp account is blocked for a policy violation; an admin must check it.", "account"),
    130497: ErrorMeaning(False, "The WhatsApp account may not message people in this country.", "account"),
    131042: ErrorMeaning(False, "There is a problem with the WhatsApp account's payment method; an admin must fix it.", "payment"),
    131051: ErrorMeaning(False, "WhatsApp does not support this kind of message.", "request"),
    131008: ErrorMeaning(False, "A required part of the message is missing.", "request"),
    131009: ErrorMeaning(False, "A value in the message is not valid (for example a reaction to an old message).", "request"),
    100: ErrorMeaning(False, "The message was not valid for WhatsApp.", "request"),
    131052: ErrorMeaning(False, "WhatsApp could not download the file; upload it again.", "media"),
    131053: ErrorMeaning(False, "WhatsApp could not take the uploaded file; check its type and size.", "media"),
    131063: ErrorMeaning(False, "Marketing templates are disabled for this account.", "template"),
    131064: ErrorMeaning(False, "The account's marketing limit was cut; an admin must check its templates.", "template"),
    132000: ErrorMeaning(False, "The template got the wrong number of values for its blanks.", "template"),
    132001: ErrorMeaning(False, "This template does not exist in that language, or is not approved.", "template"),
    132005: ErrorMeaning(False, "The template's text is too long once its blanks are filled.", "template"),
    132007: ErrorMeaning(False, "A value in the template breaks WhatsApp's rules.", "template"),
    132008: ErrorMeaning(False, "A value for one of the template's blanks is not valid.", "template"),
    132012: ErrorMeaning(False, "A value for one of the template's blanks has the wrong format.", "template"),
    132015: ErrorMeaning(False, "This template is paused by WhatsApp (low quality); choose another.", "template"),
    132016: ErrorMeaning(False, "This template is disabled by WhatsApp; choose another.", "template"),
    137000: ErrorMeaning(False, "The customer's identity changed (new phone or reinstall); check before sending again.", "request"),
    190: ErrorMeaning(False, "Our WhatsApp access token has expired or was revoked; an admin must renew it.", "auth"),
    10: ErrorMeaning(False, "Our WhatsApp access token lacks a permission; an admin must fix it.", "auth"),
    0: ErrorMeaning(False, "WhatsApp could not authenticate us; an admin must check the access token.", "auth"),
    3: ErrorMeaning(False, "The WhatsApp app lacks a capability for this; an admin must check it.", "auth"),
}  # fmt: skip

UNKNOWN = ErrorMeaning(False, "WhatsApp refused the message.", "refused")
TEMPLATE_RANGE = ErrorMeaning(
    False, "WhatsApp refused the template; check its name, language and values.", "template"
)
AUTH_RANGE = ErrorMeaning(
    False, "WhatsApp refused our credentials; an admin must check the access token.", "auth"
)


def meaning(code: int | str | None) -> ErrorMeaning:
    """The table's row for ``code``; ranges for codes the table does not list, else ``UNKNOWN``."""
    try:
        number = int(code) if code is not None and code != "" else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        return UNKNOWN
    if number in TABLE:
        return TABLE[number]
    if 132000 <= number < 133000:
        return TEMPLATE_RANGE
    if 200 <= number < 300:
        return AUTH_RANGE
    return UNKNOWN
