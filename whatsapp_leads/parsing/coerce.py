"""Reading untrusted JSON values: one set of rules for every provider's parser.

Providers send numbers as strings, strings as numbers, and (in mutated or future payloads) objects
where a string belongs. Two strengths exist on purpose: the lenient readers turn a wrong type into
"absent" (for display fields, where losing one detail must not cost the message), and the
``required_*`` readers raise ``TypeError`` naming what was wrong (for the structure we walk, where a
wrong type means the part cannot be understood and becomes an ``InvalidUpdate``).

A leaf module: it imports nothing of ours, so every parser may use it without cycles.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# Unix seconds beyond this (the year 3000) are garbage, not a date.
_MAX_UNIX_SECONDS = 32503680000


def text(value: Any) -> str:
    """A string for display fields; a number reads as its digits, anything else as empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def required_text(value: Any, what: str = "value") -> str:
    """Like ``text`` for identifiers, but an object or list raises instead of reading as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"{what} should be a string, got {type(value).__name__}")


def obj(value: Any, key: str | None = None) -> dict[str, Any]:
    """``value`` (or ``value[key]``) when it is an object, else an empty one."""
    if key is not None:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def required_obj(value: Any, what: str) -> dict[str, Any]:
    """An object, or empty when absent; any other type raises ``TypeError`` naming ``what``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{what} should be an object, got {type(value).__name__}")
    return value


def items(value: Any, key: str | None = None) -> list[dict[str, Any]]:
    """The objects in ``value`` (or ``value[key]``) when it is a list; other entries are skipped."""
    if key is not None:
        value = value.get(key) if isinstance(value, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def required_list(value: Any, what: str) -> list[Any]:
    """A list, or empty when absent; any other type raises ``TypeError`` naming ``what``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{what} should be a list, got {type(value).__name__}")
    return value


def number(value: Any) -> float | None:
    """A finite number from a number or a numeric string; None otherwise (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if result == result and result not in (float("inf"), float("-inf")) else None


def http_url(value: Any) -> str:
    """A URL we may show as a link: http(s) only, so a ``javascript:`` value never becomes one."""
    url = text(value).strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def timestamp(value: Any) -> datetime:
    """Unix seconds, as a string (``"1749416383"``) or a number; raises when missing or not a time."""
    if value is None or value == "":
        raise ValueError("timestamp is missing")
    if isinstance(value, bool):
        raise TypeError("timestamp should be Unix seconds, got a boolean")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"timestamp {value!r} is not Unix seconds") from None
    if not 0 <= seconds < _MAX_UNIX_SECONDS:
        raise ValueError(f"timestamp {value!r} is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def optional_timestamp(value: Any) -> datetime | None:
    """``timestamp``, or None when absent or unreadable (for times that are a detail, not the key)."""
    if value in (None, ""):
        return None
    try:
        return timestamp(value)
    except (TypeError, ValueError):
        return None
