"""Every stored row renders: admin pages and API answers never 500 on what a webhook left behind.

A body is stored byte for byte before it is understood, so the inbox holds whatever was signed:
JSON nested deeper than Python recurses, lone surrogates (``"\\ud800"``: legal JSON, not UTF-8),
bytes that are not UTF-8, and mixes of them. SQLite keeps JSON columns as escaped text, so a lead's
or message's JSON can hold a lone surrogate there; PostgreSQL refuses it (and processing now
replaces it before storing, see the last tests).
"""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.delivery import deliver
from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory, WebhookEventFactory
from tests.support.people import logged_in
from whatsapp_leads.models import Lead, Message
from whatsapp_leads.providers.meta.simulation import inbound

pytestmark = pytest.mark.django_db

DEEP = 100_000  # deeper than json.loads recurses
INDENT_DEEP = 990  # parses, but deeper than the indenting encoder recurses inside a request
LONE = '"\\ud800 and \\udfff"'  # escaped lone surrogates, as a JSON string

BODIES = {
    "deeply-nested": b"[" * DEEP + b"]" * DEEP,
    "nested-past-the-indenter": b'{"a":' * INDENT_DEEP + b"1" + b"}" * INDENT_DEEP,
    "lone-surrogates": b'{"object": "whatsapp_business_account", "name": ' + LONE.encode() + b"}",
    "bad-utf8": b'{"object": "whatsapp_business_account", "name": "\xff\xfe\xc3("}',
    "mixed": b'{"n": [' * 400 + LONE.encode() + b', "\xff"' + b"]}" * 400,
    "surrogate-key": b'{"\\udc00": 1, "entry": []}',
}


def admin_url(obj, action: str = "change") -> str:
    if action == "changelist":
        return reverse(f"admin:whatsapp_leads_{obj._meta.model_name}_changelist")
    return reverse(f"admin:whatsapp_leads_{obj._meta.model_name}_{action}", args=[obj.pk])


@pytest.mark.parametrize("name", list(BODIES))
def test_the_webhook_event_pages_render_any_stored_body(name, superuser):
    event = WebhookEventFactory(body=BODIES[name], error=f"stored body: {name}", status="failed")
    client = logged_in(superuser)

    assert client.get(admin_url(event, "changelist")).status_code == 200
    page = client.get(admin_url(event))
    assert page.status_code == 200
    assert f"stored body: {name}" in page.content.decode()


def test_a_lone_surrogate_in_a_body_is_shown_as_its_escape(superuser):
    event = WebhookEventFactory(body=BODIES["lone-surrogates"])

    page = logged_in(superuser).get(admin_url(event)).content.decode()

    assert "\\ud800 and \\udfff" in page


def _stored_or_skip(make):
    """The row, or a skip naming the refusal when this database cannot store such a value."""
    try:
        with transaction.atomic():
            return make()
    except (DatabaseError, UnicodeEncodeError, ValueError, RecursionError) as exc:
        pytest.skip(f"this database cannot store it ({type(exc).__name__}), so it cannot need rendering")


LONE_VALUE = json.loads(LONE)


def _nested(depth: int) -> dict:
    value: dict = {"a": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


DEEP_VALUE = _nested(INDENT_DEEP)


@pytest.mark.parametrize(
    "value", [LONE_VALUE, {LONE_VALUE: [LONE_VALUE]}, DEEP_VALUE], ids=["str", "key", "deep"]
)
def test_lead_page_transcript_and_api_render_json_columns_holding_what_a_database_accepted(value, superuser):
    def make() -> Message:
        lead = LeadFactory(extra={"answer": value}, referral={"headline": value})
        conversation = ConversationFactory(lead=lead)
        return MessageFactory(
            conversation=conversation,
            text="",
            type="interactive",
            payload={
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"title": value}},
            },
            details={"title": value},
            form_response={"city": value},
            referral={"headline": value},
        )

    message = _stored_or_skip(make)
    lead = message.conversation.lead

    assert logged_in(superuser).get(admin_url(lead)).status_code == 200
    api = APIClient()
    api.force_authenticate(superuser)
    detail = api.get(reverse("whatsapp_leads:lead-detail", args=[lead.pk]))
    assert detail.status_code == 200
    messages = api.get(reverse("whatsapp_leads:lead-messages", args=[lead.pk]))
    assert messages.status_code == 200


def test_text_columns_hold_any_valid_unicode_and_render(superuser):
    name = "\u202eEvil <b>Name</b> 😀 \U0010ffff"
    lead = LeadFactory(name=name, first_message=name)
    MessageFactory(conversation=ConversationFactory(lead=lead), text=name)
    api = APIClient()
    api.force_authenticate(superuser)

    assert logged_in(superuser).get(admin_url(lead)).status_code == 200
    assert api.get(reverse("whatsapp_leads:lead-detail", args=[lead.pk])).json()["name"] == name
    assert api.get(reverse("whatsapp_leads:lead-messages", args=[lead.pk])).status_code == 200


def test_a_message_with_lone_surrogates_is_stored_with_replacement_characters():
    payload = inbound(wa_id="919812340001", name="Asha", text="placeholder")
    body = (
        json.dumps(payload).replace('"Asha"', '"Asha \\ud83d"').replace('"placeholder"', '"Hi \\udc00 there"')
    )

    deliver(body.encode())

    lead = Lead.objects.get(wa_id="919812340001")
    assert lead.name == "Asha \ufffd"
    message = Message.objects.get(conversation__lead=lead)
    assert message.text == "Hi \ufffd there"
    assert message.payload["text"]["body"] == "Hi \ufffd there"


def test_escaped_emoji_pairs_are_kept_as_the_emoji():
    payload = inbound(wa_id="919812340002", name="Ravi", text="placeholder")
    body = json.dumps(payload).replace('"placeholder"', '"ok \\ud83d\\ude00"')

    deliver(body.encode())

    assert Message.objects.get().text == "ok 😀"
