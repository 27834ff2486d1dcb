"""Issue 3: WhatsApp Flow form answers are parsed, kept on the message and mapped onto the lead."""

from __future__ import annotations

import json

import pytest

from tests.support.delivery import deliver as process_ok
from tests.support.kinds_support import load, message, value
from whatsapp_leads.models import Lead, Message
from whatsapp_leads.providers.meta.simulation import text_message

pytestmark = pytest.mark.django_db

LEAD_FORM = {"lead_form": {"email": "email", "full_name": "name", "city": "city", "budget": "budget_band"}}
FIXTURE_ANSWERS = {
    "full_name": "Asha Verma",
    "email": "asha.verma@example.com",
    "city": "Pune",
    "budget": "50L-1Cr",
}


@pytest.fixture
def flow_map(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "FLOW_FIELD_MAP": LEAD_FORM}


def form(answers: dict | str, *, at: int | None = None) -> dict:
    """The nfm_reply fixture with other answers (a dict is encoded as Meta does: a JSON string)."""
    payload = load("interactive_nfm_reply")
    raw = message(payload)
    raw["interactive"]["nfm_reply"]["response_json"] = (
        answers if isinstance(answers, str) else json.dumps(answers)
    )
    if at is not None:
        raw["timestamp"] = str(at)
        raw["id"] = f"{raw['id'][:-6]}{at % 1000000:06d}"
    return payload


def stored(payload: dict) -> Message:
    return Message.objects.get(wamid=message(payload)["id"])


def test_form_answers_and_flow_token_are_stored_on_the_message():
    payload = load("interactive_nfm_reply")
    process_ok(payload)

    row = stored(payload)
    assert row.form_response == FIXTURE_ANSWERS
    assert row.flow_token == "lead_form:8f2a"
    assert row.form_error == ""
    assert row.details["reply_type"] == "nfm_reply"
    assert (
        row.text
        == "[Form reply] full_name: Asha Verma, email: asha.verma@example.com, city: Pune, budget: 50L-1Cr"
    )


def test_mapped_answers_fill_the_lead_and_unknown_targets_go_to_extra(flow_map):
    process_ok(load("interactive_nfm_reply"))

    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.city) == ("Asha Verma", "asha.verma@example.com", "Pune")
    assert lead.extra == {"budget_band": "50L-1Cr"}
    change = lead.history.get(kind="name")
    assert (change.previous, change.current, change.detail) == (
        "Sheena Nelson",
        "Asha Verma",
        "From a WhatsApp Flow form",
    )


def test_flow_named_by_an_answer_field_is_mapped_too(flow_map):
    process_ok(form({"flow_token": "unrelated-token-123", "flow_id": "lead_form", "city": "Nagpur"}))

    assert Lead.objects.get().city == "Nagpur"


def test_answers_of_an_unmapped_flow_stay_on_the_message_only(flow_map):
    payload = form({"flow_token": "feedback:1", "city": "Nagpur"})
    process_ok(payload)

    lead = Lead.objects.get()
    assert (lead.city, lead.name) == ("", "Sheena Nelson")
    assert stored(payload).form_response == {"city": "Nagpur"}


def test_malformed_answers_are_stored_with_a_clear_error_and_the_rest_of_the_payload_goes_on(flow_map):
    payload = form('{"flow_token": "lead_form:1", "email": ')
    following = text_message(wa_id="16505551234", text="Did you get my form?", timestamp=1749416400)
    value(payload)["messages"].append(following)
    process_ok(payload)

    row = stored(payload)
    assert row.form_error.startswith("response_json is not valid JSON")
    assert row.form_response == {}
    assert Message.objects.filter(wamid=following["id"]).exists()
    assert Lead.objects.get().email == ""


def test_answers_that_are_not_an_object_are_refused_with_an_error():
    payload = form('["a", "list"]')
    process_ok(payload)

    assert stored(payload).form_error == "response_json should hold a JSON object, got list"


def test_an_invalid_email_is_skipped_and_named_while_other_answers_apply(flow_map):
    payload = form({"flow_token": "lead_form:2", "email": "not-an-email", "city": "Pune"})
    process_ok(payload)

    lead = Lead.objects.get()
    assert (lead.email, lead.city) == ("", "Pune")
    assert (
        stored(payload).form_error
        == "Some answers were not applied: email: 'not-an-email' is not a valid email address"
    )


def test_an_older_form_arriving_late_does_not_overwrite_a_newer_one(flow_map):
    process_ok(form({"flow_token": "lead_form:new", "city": "Mumbai"}, at=1749416500))
    process_ok(form({"flow_token": "lead_form:old", "city": "Pune"}, at=1749416400))

    assert Lead.objects.get().city == "Mumbai"


def test_an_overlong_city_is_cut_with_a_mark_and_an_overlong_email_is_refused_by_name(flow_map):
    city = "Pimpri-Chinchwad " * 20
    email = "a" * 60 + "@" + ("b" * 60 + ".") * 4 + "com"  # 309 characters
    payload = form({"flow_token": "lead_form:3", "email": email, "city": city})
    process_ok(payload)

    lead = Lead.objects.get()
    assert len(lead.city) == 120 and lead.city.endswith("…") and city.startswith(lead.city[:-1])
    assert lead.email == ""
    assert stored(payload).form_error == (
        "Some answers were not applied: email: the email address is longer than 254 characters"
    )
    assert stored(payload).form_response["city"] == city
