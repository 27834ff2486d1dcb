"""Why a stored request can never become updates, whichever provider sent it."""

from __future__ import annotations


class PermanentError(Exception):
    """The body can never be processed (not JSON, not a webhook of its provider): retrying will not help.

    The event is marked failed with this message as its reason and is not queued again by the
    sweep; a person can still re-process it after a parser fix.
    """
