"""Helpers for the issue-3 tests: the per-kind fixtures under tests/payloads/kinds/ and processing them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

KINDS_DIR = Path(__file__).parent.parent / "payloads" / "kinds"
# The outbound message the fixtures reply and react to (tests/payloads/kinds/*.json).
OUR_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
USER_WA_ID = "16505551234"
USER_BSUID = "US.13491208655302741918"


def load(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/payloads/kinds/<name>.json``."""
    return json.loads((KINDS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def value(payload: dict[str, Any], change: int = 0) -> dict[str, Any]:
    return payload["entry"][0]["changes"][change]["value"]


def message(payload: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The raw message object, as ``Message.payload`` should keep it."""
    return value(payload)["messages"][index]


def variant(name: str, **changes: Any) -> dict[str, Any]:
    """The fixture with its first message's top-level keys replaced (None deletes a key)."""
    payload = copy.deepcopy(load(name))
    raw = message(payload)
    for key, new in changes.items():
        if new is None:
            raw.pop(key, None)
        else:
            raw[key] = new
    return payload
