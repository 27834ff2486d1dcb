"""A send refused before anything was queued: an answer for the rep, not an error."""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_CLOSED = "window_closed"
OPTED_OUT = "opted_out"
TEMPLATE_NOT_APPROVED = "template_not_approved"
NO_ADDRESS = "no_address"


@dataclass(frozen=True, slots=True)
class Refusal:
    """``code`` is stable for programs (the API's 409 body); ``words`` is for the rep."""

    code: str
    words: str
