"""Helpers for the issue-3 tests: the per-kind fixtures under tests/payloads/kinds/ and processing them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.factories import WebhookEventFactory
from whatsapp_leads.models import WebhookEvent
from whatsapp_leads.services.processing import process_event
from whatsapp_leads.simulation import dumps

KINDS_DIR = Path(__file__).parent / "payloads" / "kinds"
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


def process(payload: dict[str, Any] | bytes) -> WebhookEvent:
    """Store the body as the view would and run the worker's processing on it."""
    body = payload if isinstance(payload, bytes) else dumps(payload)
    event = WebhookEventFactory(body=body)
    process_event(event.pk)
    event.refresh_from_db()
    return event


def process_ok(payload: dict[str, Any]) -> WebhookEvent:
    event = process(payload)
    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    return event
