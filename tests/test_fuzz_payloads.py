"""Issue 3: no webhook body, however mangled, makes processing raise.

Hypothesis starts from the real-shaped fixtures in tests/payloads/kinds/ and mutates them:
missing keys, wrong types, unknown message types, huge strings, odd unicode, duplicated parts.
Whatever comes out, ``process_event`` must return, and the event must end ``processed`` or
``failed`` with a reason a person can read.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.factories import WebhookEventFactory
from tests.support.kinds_support import KINDS_DIR
from whatsapp_leads.models import WebhookEvent
from whatsapp_leads.services.processing import process_event

FIXTURES = {
    path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(KINDS_DIR.glob("*.json"))
}
KNOWN_TYPES = ["text", "image", "audio", "document", "sticker", "location", "contacts", "interactive", "button",
               "reaction", "order", "system", "request_welcome", "unsupported", "nfm_reply", "user_changed_number"]  # fmt: skip

huge_text = st.builds(
    lambda char, n: char * n, st.characters(), st.integers(min_value=1_000, max_value=60_000)
)
odd_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40) | st.sampled_from(
    ["", " ", "\u0000", "\u202e", "👍🏽", "ज़", "null", "1e309", "-1", "wamid.", "{}"]
)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
    huge_text,
)
any_json = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location in the document, as key/index tuples (the root is ``()``)."""
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += paths(child, (*prefix, index))
    return found


def parent_of(doc: Any, path: tuple) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated_payloads(draw) -> bytes:
    doc = copy.deepcopy(FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(paths(doc)))
        op = draw(st.sampled_from(["delete", "replace", "retype", "duplicate", "add_key"]))
        if not path:  # the root itself: replace the whole body now and then
            if op == "replace":
                doc = draw(any_json)
            continue
        parent, key = parent_of(doc, path), path[-1]
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(any_json)
        elif op == "retype" and isinstance(parent[key], dict):
            parent[key]["type"] = draw(st.sampled_from(KNOWN_TYPES) | odd_text)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif op == "add_key" and isinstance(parent[key], dict):
            parent[key][draw(odd_text)] = draw(any_json)
    # surrogatepass: a lone surrogate the generator drew becomes bytes that are not UTF-8, as a forger could send
    body = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.integers(min_value=0, max_value=30)) == 0:
        body = body[: draw(st.integers(min_value=0, max_value=len(body)))] + b"\xff"  # cut short, not UTF-8
    return body


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    # The database fixture is function-scoped on purpose: rows from earlier examples stay, so later
    # ones also meet redeliveries and existing leads.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(body=mutated_payloads())
def test_processing_a_mutated_payload_never_raises_and_always_ends_with_a_verdict(body):
    row = WebhookEventFactory(body=body)

    outcome = process_event(row.pk)

    row.refresh_from_db()
    event(f"ended {row.status}")  # shown by --hypothesis-show-statistics
    assert row.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.FAILED)
    assert outcome.status == row.status
    if row.status == WebhookEvent.Status.FAILED:
        assert row.error.strip(), "a failed event must say why"
    assert row.attempts == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_fixture_is_processed_cleanly(name):
    event = WebhookEventFactory(body=json.dumps(FIXTURES[name]).encode())

    assert process_event(event.pk).status == "processed"


@pytest.mark.django_db
def test_a_failure_reason_quoting_a_nul_character_is_still_saved():
    """PostgreSQL refuses NUL in text; the reason for a mangled message must not be lost with it.

    Decoding replaces the NUL with U+FFFD, so the reason quotes the id as it was stored."""
    payload = copy.deepcopy(FIXTURES["bsuid_username_only"])
    raw = payload["entry"][0]["changes"][0]["value"]
    raw.pop("contacts")
    raw["messages"][0].pop("from_user_id")
    raw["messages"][0]["id"] = "wamid.\u0000broken"
    event = WebhookEventFactory(body=json.dumps(payload).encode())

    assert process_event(event.pk).status == "failed"

    event.refresh_from_db()
    assert "wamid.\ufffdbroken has neither 'from' nor 'from_user_id'" in event.error
