"""Decoding a JSON request body into values every database can store.

JSON may carry characters no column can hold: ``\\u0000`` (PostgreSQL refuses NUL in text and
jsonb) and lone surrogates such as ``"\\ud800"`` (legal JSON escapes, but not encodable as UTF-8,
so neither the row nor the error text quoting them could be saved). Both are replaced by U+FFFD
at decode time, keys included, so the rest of the message stays readable and every event can
end processed or failed with a reason, whatever its bytes.
"""

from __future__ import annotations

import json
import re

from .errors import PermanentError
from .safe_text import storable

__all__ = ["load_json", "storable"]

# Escapes that can decode to an unstorable character: NUL, or any surrogate (pairs decode to one
# character and are harmless, but telling them apart needs the decoded text).
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _clean(value: object) -> object:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {storable(k): _clean(v) for k, v in value.items()}
    return value


def load_json(body: bytes) -> object:
    """The decoded body; raises ``PermanentError`` when it is not UTF-8 JSON (or nests too deeply)."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PermanentError(f"body is not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PermanentError(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise PermanentError("body nests JSON too deeply to read") from None
    if not _RISKY_ESCAPE.search(body):
        return payload
    try:
        return _clean(payload)
    except RecursionError:
        raise PermanentError("body nests JSON too deeply to read") from None
