"""Whatever its bytes, every stored event ends processed or failed with a reason.

A lone surrogate (``"\\ud800"``: legal JSON, not encodable as UTF-8) or a NUL in any string of any
update kind used to make the failure itself unsaveable on PostgreSQL, leaving the event pending
forever. Each fixture kind is mutated at every string it holds, one at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.factories import WebhookEventFactory
from tests.support.kinds_support import KINDS_DIR, load
from whatsapp_leads.models import Lead, Message, WebhookEvent
from whatsapp_leads.parsing.jsonbody import storable
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db

KINDS = sorted(path.stem for path in KINDS_DIR.glob("*.json"))
LONE_SURROGATE = "\ud800"


def string_paths(node: Any, path: tuple = ()) -> Iterator[tuple]:
    """The path of every string value in ``node`` (keys are mutated separately)."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield from string_paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from string_paths(child, (*path, index))
    elif isinstance(node, str):
        yield path


def replaced(payload: Any, path: tuple, text: str) -> Any:
    copy = json.loads(json.dumps(payload))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = node[path[-1]] + text
    return copy


def body_of(payload: Any) -> bytes:
    # ensure_ascii writes the surrogate as the escape Meta (or a forger) would send: \ud800
    return json.dumps(payload, ensure_ascii=True).encode()


def assert_finished(event: WebhookEvent) -> None:
    event.refresh_from_db()
    assert event.status in {"processed", "failed"}, f"event left {event.status}"
    if event.status == "failed":
        assert event.error, "a failed event must say why"


@pytest.mark.parametrize("kind", KINDS)
def test_a_lone_surrogate_in_any_string_of_any_kind_still_finishes_the_event(kind):
    payload = load(kind)
    paths = list(string_paths(payload))
    assert paths
    for path in paths:
        event = WebhookEventFactory(body=body_of(replaced(payload, path, LONE_SURROGATE)))
        process_event(event.pk)
        assert_finished(event)


@pytest.mark.parametrize(
    "kind", ["text", "image", "status_failed", "contacts", "errors", "unsupported_from_ad"]
)
def test_nul_and_surrogates_in_every_string_at_once_are_stored_as_replacement_characters(kind):
    payload = load(kind)
    for path in string_paths(payload):
        if path[-1] not in {
            "id",
            "from",
            "wa_id",
            "user_id",
            "recipient_id",
            "timestamp",
            "status",
            "type",
            "object",
            "field",
            "messaging_product",
        }:
            payload = replaced(payload, path, "\x00" + LONE_SURROGATE)
    event = WebhookEventFactory(body=body_of(payload))
    process_event(event.pk)
    assert_finished(event)
    for text in Message.objects.values_list("text", flat=True):
        assert storable(text) == text
    for name in Lead.objects.values_list("name", flat=True):
        assert storable(name) == name


def test_a_surrogate_in_a_key_is_replaced_too():
    payload = load("text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0][LONE_SURROGATE] = "odd key"
    event = WebhookEventFactory(body=body_of(payload))
    assert process_event(event.pk).status == "processed"
    (stored,) = Message.objects.values_list("payload", flat=True)
    assert "\ufffd" in stored


def test_invalid_utf8_fails_with_its_reason_and_is_never_retried():
    body = body_of(load("text")).replace(b'"text"', b'"te\xc3\x28xt"', 1)
    event = WebhookEventFactory(body=body)
    outcome = process_event(event.pk)
    event.refresh_from_db()
    assert (outcome.status, outcome.retry_in, event.status) == ("failed", None, "failed")
    assert event.error.startswith("body is not UTF-8 text")


def test_json_nested_past_the_recursion_limit_fails_with_its_reason():
    body = b'{"object":"whatsapp_business_account","entry":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    event = WebhookEventFactory(body=body)
    assert process_event(event.pk).status == "failed"
    event.refresh_from_db()
    assert "too deeply" in event.error


def test_a_failure_reason_quoting_a_lone_surrogate_is_still_saved():
    """The parser quotes the message id in its reason; that reason must be storable too."""
    payload = load("text")
    raw = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    raw["id"] = "wamid." + LONE_SURROGATE
    raw.pop("from")
    payload["entry"][0]["changes"][0]["value"]["contacts"] = []
    event = WebhookEventFactory(body=body_of(payload))
    assert process_event(event.pk).status == "failed"
    event.refresh_from_db()
    assert event.status == "failed"
    assert "has neither 'from' nor 'from_user_id'" in event.error
