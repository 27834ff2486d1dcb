"""Meta's body redaction: one person's items out of a batched body, others kept exactly."""

from __future__ import annotations

import json

from whatsapp_leads.providers.base import Provider
from whatsapp_leads.providers.meta.redact import redact_body
from whatsapp_leads.providers.meta.simulation import (
    contact,
    dumps,
    envelope,
    messages_value,
    status,
    statuses_value,
    text_message,
)

ASHA, RAVI = "919876543210", "919811122233"


def batched() -> bytes:
    return dumps(
        envelope(
            messages_value(
                [
                    text_message(wa_id=ASHA, text="Asha's words", message_id="wamid.A1"),
                    text_message(
                        wa_id=RAVI, text=f"Ravi's words, call Asha on {ASHA}", message_id="wamid.R1"
                    ),
                ],
                [contact(wa_id=ASHA, name="Asha Verma"), contact(wa_id=RAVI, name="Ravi Kumar")],
            ),
            statuses_value([status("wamid.OUT1", "read", recipient=ASHA)]),
        )
    )


def test_a_body_that_never_mentions_the_person_is_returned_unchanged():
    body = batched()

    assert redact_body(body, identities={"919000000000"}) is body


def test_the_persons_messages_contacts_and_statuses_go_and_the_others_stay():
    body = json.loads(redact_body(batched(), identities={ASHA}))

    changes = body["entry"][0]["changes"]
    assert len(changes) == 1  # the statuses change held only Asha's status
    value = changes[0]["value"]
    assert [m["id"] for m in value["messages"]] == ["wamid.R1"]
    assert [c["wa_id"] for c in value["contacts"]] == [RAVI]
    assert value["messages"][0]["text"]["body"] == "Ravi's words, call Asha on [erased]"
    assert value["metadata"]["phone_number_id"]  # the rest of the change is untouched


def test_a_body_with_only_the_persons_items_is_dropped():
    body = dumps(envelope(messages_value([text_message(wa_id=ASHA)], [contact(wa_id=ASHA)])))

    assert redact_body(body, identities={ASHA}) is None


def test_a_status_is_matched_by_the_message_id_as_well_as_the_recipient():
    body = dumps(
        envelope(statuses_value([status("wamid.OUT1", "read", recipient=""), status("wamid.X", "read")]))
    )

    value = json.loads(redact_body(body, identities={"wamid.OUT1"}))["entry"][0]["changes"][0]["value"]

    assert [s["id"] for s in value["statuses"]] == ["wamid.X"]


def test_a_user_id_update_sent_as_the_value_itself_is_dropped():
    update = {"wa_id": ASHA, "user_id": {"previous": "IN.1", "current": "IN.22222"}, "timestamp": "1"}
    body = dumps(envelope(update, field="user_id_update"))

    assert redact_body(body, identities={"IN.22222"}) is None


def test_a_body_that_is_not_json_but_mentions_the_person_is_dropped():
    assert redact_body(b"not json " + ASHA.encode(), identities={ASHA}) is None


def test_the_default_provider_redaction_drops_any_body_that_mentions_the_person():
    provider = Provider()

    assert provider.redact(b"from=" + ASHA.encode(), identities={ASHA}) is None
    assert provider.redact(b"from=someone", identities={ASHA}) == b"from=someone"
