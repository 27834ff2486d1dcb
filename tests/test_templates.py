"""Message templates: synced page by page from the WABA, their blanks read, kept current by webhooks."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.support.delivery import deliver
from tests.support.fake_graph import expired_token
from tests.support.outbound import approved_template
from whatsapp_leads.models import MessageTemplate
from whatsapp_leads.providers.meta.simulation import WABA_ID, envelope
from whatsapp_leads.services.outbound import templates

pytestmark = pytest.mark.django_db


def add_templates(fake, count: int) -> None:
    for n in range(count):
        fake.add_template(WABA_ID, {
            "id": f"55{n:04d}", "name": f"offer_{n}", "language": "en_US", "category": "MARKETING" if n % 2 else "UTILITY",
            "status": "APPROVED" if n != 3 else "REJECTED", "parameter_format": "POSITIONAL",
            "quality_score": {"score": "GREEN", "date": 1764000000},
            "components": [{"type": "BODY", "text": "Hi {{1}}, offer {{2}}", "example": {"body_text": [["Asha", "A1"]]}}],
        })  # fmt: skip


def test_the_command_follows_every_page_and_summarises(cloud):
    add_templates(cloud, 5)  # the fake pages two at a time: three pages
    out, err = StringIO(), StringIO()

    call_command("whatsapp_sync_templates", stdout=out, stderr=err)

    assert "Synced 5 template(s) in 3 page(s): 5 new, 0 updated, 4 approved." in out.getvalue()
    assert "page 3: 5 templates so far" in err.getvalue()
    assert len(cloud.requests_to(f"/{WABA_ID}/message_templates")) == 3
    row = MessageTemplate.objects.get(name="offer_1")
    assert (row.category, row.status, row.quality, row.template_id) == (
        "MARKETING",
        "APPROVED",
        "GREEN",
        "550001",
    )
    assert row.parameters == [
        {"component": "body", "name": "1", "example": "Asha"},
        {"component": "body", "name": "2", "example": "A1"},
    ]


def test_a_second_sync_updates_rather_than_duplicates(cloud):
    add_templates(cloud, 2)
    templates.sync_templates()
    cloud.objects["550000"]["status"] = "PAUSED"

    report = templates.sync_templates()

    assert (report.created, report.updated) == (0, 2)
    assert MessageTemplate.objects.count() == 2
    assert MessageTemplate.objects.get(name="offer_0").status == "PAUSED"


def test_a_refused_token_fails_the_command_with_metas_words(cloud):
    cloud.queue("/message_templates", expired_token())
    with pytest.raises(CommandError, match="190"):
        call_command("whatsapp_sync_templates", stdout=StringIO(), stderr=StringIO())


def test_named_blanks_header_and_url_buttons_are_all_parameters():
    components = [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{order_id}}"},
        {"type": "BODY", "text": "Hi {{first_name}}, {{first_name}} again",
         "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Jessica"}]}},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes"}, {"type": "URL", "url": "https://x.in/{{1}}"}]},
    ]  # fmt: skip

    assert templates.parameters_of(components) == [
        {"component": "header", "name": "order_id", "example": ""},
        {"component": "body", "name": "first_name", "example": "Jessica"},
        {"component": "body", "name": "first_name", "example": "Jessica"},
        {"component": "button", "name": "1", "example": "", "index": "1"},
    ]


def test_a_plain_value_list_becomes_named_parameters_for_a_named_template():
    template = approved_template(body="Hi {{first_name}}, rate {{rate}}", parameter_format="NAMED")

    assert templates.components_from_values(template, ["Asha", "8.4%"]) == [
        {"type": "body", "parameters": [
            {"type": "text", "text": "Asha", "parameter_name": "first_name"},
            {"type": "text", "text": "8.4%", "parameter_name": "rate"},
        ]}
    ]  # fmt: skip
    assert templates.preview(template, {"first_name": "Asha"}) == "Hi Asha, rate {{rate}}"


def test_a_status_webhook_updates_the_template_and_a_paused_one_is_no_longer_offered():
    template = approved_template()
    value = {"event": "PAUSED", "message_template_id": int(template.template_id),
             "message_template_name": template.name, "message_template_language": "en_US", "reason": "NONE"}  # fmt: skip

    deliver(envelope(value, field="message_template_status_update"))

    template.refresh_from_db()
    assert template.status == "PAUSED"
    assert list(templates.approved()) == []


def test_a_quality_webhook_updates_the_templates_quality():
    template = approved_template()
    value = {"previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
             "message_template_id": int(template.template_id), "message_template_name": template.name,
             "message_template_language": "en_US"}  # fmt: skip

    deliver(envelope(value, field="message_template_quality_update"))

    template.refresh_from_db()
    assert template.quality == "YELLOW"
