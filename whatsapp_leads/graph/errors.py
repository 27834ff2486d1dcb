"""One exception for everything that can go wrong talking to Meta's Graph API.

Callers catch a single type and read Meta's own words from it (code, subcode, type, message,
fbtrace_id), so a log line or an ``Ad.lookup_error`` is enough to open a ticket with Meta.
``retryable`` says whether trying again later can help; ``retry_after`` how long Meta asked us
to wait, when it said so.
"""

from __future__ import annotations

from typing import Any

# Meta's throttling codes: app (4), user (17), page (32), API (613), ad account (80004).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80004})
# Tokens that are expired, revoked or malformed: no retry helps until a person fixes the token.
AUTH_CODES = frozenset({102, 190})
UNKNOWN_OBJECT_CODE = 100


class GraphAPIError(Exception):
    """A Graph API call failed; the attributes carry Meta's error object as sent."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        type: str = "",
        fbtrace_id: str = "",
        http_status: int | None = None,
        is_transient: bool = False,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.is_transient = is_transient
        self.retry_after = retry_after
        self.attempts = 1
        if retryable is None:
            retryable = self.rate_limited or (
                code not in AUTH_CODES and (is_transient or _is_5xx(http_status))
            )
        self.retryable = retryable

    @classmethod
    def from_response(cls, body: Any, *, http_status: int, retry_after: float | None = None) -> GraphAPIError:
        """Build from Meta's ``{"error": {...}}`` body; anything else becomes a readable HTTP error."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(f"HTTP {http_status} without a Graph error body", http_status=http_status)
        return cls(
            str(error.get("message") or f"HTTP {http_status}"),
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            type=str(error.get("type") or ""),
            fbtrace_id=str(error.get("fbtrace_id") or ""),
            http_status=http_status,
            is_transient=error.get("is_transient") is True,
            retry_after=retry_after,
        )

    @property
    def rate_limited(self) -> bool:
        return self.code in RATE_LIMIT_CODES

    @property
    def unknown_object(self) -> bool:
        """Meta does not know the id (or our token may not see it): asking again will not help."""
        return self.code == UNKNOWN_OBJECT_CODE

    def __str__(self) -> str:
        code = "" if self.code is None else f" {self.code}"
        if self.subcode is not None:
            code += f"/{self.subcode}"
        kind = f" ({self.type})" if self.type else ""
        trace = f" [fbtrace_id {self.fbtrace_id}]" if self.fbtrace_id else ""
        return f"Graph API error{code}{kind}: {self.message}{trace}"


class GraphNotConfigured(GraphAPIError):
    """No access token is configured, so no call can be made; raised before any request."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "No Meta access token is configured: set META_ACCESS_TOKEN (WHATSAPP_LEADS"
            "['META_ACCESS_TOKEN']) or WHATSAPP_ACCESS_TOKEN to use the Marketing API.",
            type="NotConfigured",
            retryable=False,
        )

    def __str__(self) -> str:
        return self.message


def _is_5xx(status: int | None) -> bool:
    return status is not None and status >= 500


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
