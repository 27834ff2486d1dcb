"""``POST /whatsapp/api/leads/{id}/messages/`` and ``GET /whatsapp/api/templates/`` as a CRM calls them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.outbound import approved_template, lead_who_wrote
from tests.support.people import logged_in
from whatsapp_leads.models import Message
from whatsapp_leads.queueing import SEND_MESSAGE

pytestmark = pytest.mark.django_db


def url(lead) -> str:
    return reverse("whatsapp_leads:lead-messages", args=[lead.pk])


def post(user, lead, body, capture):
    with capture(execute=True):
        return logged_in(user).post(url(lead), body, content_type="application/json")


def test_a_text_answers_202_with_the_stored_message_and_queues_its_delivery(
    rep, broker, django_capture_on_commit_callbacks
):
    lead = lead_who_wrote(owner=rep)

    response = post(rep, lead, {"text": "Hi Asha, when can we call?"}, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    body = response.json()
    message = Message.objects.get(pk=body["id"])
    assert (body["status"], body["direction"], body["send_state"]) == ("pending", "outbound", "queued")
    assert (message.sent_by, message.origin, message.text) == (rep, "api", "Hi Asha, when can we call?")
    assert broker() == [(SEND_MESSAGE, (message.pk,))]


def test_another_reps_lead_is_a_404_and_nothing_is_queued(
    rep, other_rep, broker, django_capture_on_commit_callbacks
):
    lead = lead_who_wrote(owner=other_rep)

    response = post(rep, lead, {"text": "Hello"}, django_capture_on_commit_callbacks)

    assert response.status_code == 404
    assert not Message.objects.filter(direction="outbound").exists()
    assert broker() == []


def test_a_closed_window_answers_409_window_closed_in_words(rep, broker, django_capture_on_commit_callbacks):
    lead = lead_who_wrote(owner=rep, hours_ago=48)

    response = post(rep, lead, {"text": "Hello?"}, django_capture_on_commit_callbacks)

    assert response.status_code == 409
    assert response.json()["code"] == "window_closed"
    assert "only an approved template" in response.json()["detail"]
    assert broker() == []


def test_a_marketing_template_to_an_opted_out_lead_answers_409_opted_out(
    rep, broker, django_capture_on_commit_callbacks
):
    approved_template("festive_offer", category="MARKETING")
    lead = lead_who_wrote(owner=rep, marketing_opt_out=True)

    response = post(rep, lead, {"template": {"name": "festive_offer", "language": "en_US"}},
                    django_capture_on_commit_callbacks)  # fmt: skip

    assert response.status_code == 409
    assert response.json()["code"] == "opted_out"


def test_a_body_only_template_takes_a_plain_parameter_list(rep, broker, django_capture_on_commit_callbacks):
    approved_template()
    lead = lead_who_wrote(owner=rep, hours_ago=40)

    response = post(rep, lead, {"template": {"name": "loan_offer", "language": "en_US", "parameters": ["Asha", "8.4%"]}},
                    django_capture_on_commit_callbacks)  # fmt: skip

    assert response.status_code == 202, response.content
    content = Message.objects.get(pk=response.json()["id"]).content
    assert content["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "8.4%"}]}
    ]


def test_metas_component_shape_is_passed_through(rep, broker, django_capture_on_commit_callbacks):
    approved_template()
    lead = lead_who_wrote(owner=rep)
    components = [
        {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "9%"}]}
    ]

    response = post(rep, lead, {"template": {"name": "loan_offer", "language": "en_US", "components": components}},
                    django_capture_on_commit_callbacks)  # fmt: skip

    assert response.status_code == 202
    assert Message.objects.get(pk=response.json()["id"]).content["components"] == components


@pytest.mark.parametrize(
    "body", [{}, {"text": "  "}, {"text": "Hi", "template": {"name": "x", "language": "en"}}]
)
def test_a_body_that_is_neither_a_text_nor_a_template_is_a_400(
    rep, body, broker, django_capture_on_commit_callbacks
):
    response = post(rep, lead_who_wrote(owner=rep), body, django_capture_on_commit_callbacks)
    assert response.status_code == 400


def test_sending_needs_the_change_permission(broker, django_capture_on_commit_callbacks):
    from tests.support.people import staff

    viewer = staff("view_lead", username="read_only")
    lead = lead_who_wrote(owner=viewer)

    response = post(viewer, lead, {"text": "Hello"}, django_capture_on_commit_callbacks)

    assert response.status_code == 403


def test_the_templates_list_offers_approved_templates_only(rep):
    approved_template("loan_offer")
    approved_template("old_offer", status="REJECTED")

    response = logged_in(rep).get(reverse("whatsapp_leads:template-list"))

    assert response.status_code == 200
    names = [t["name"] for t in response.json()["results"]]
    assert names == ["loan_offer"]
    assert response.json()["results"][0]["parameters"] == [
        {"component": "body", "name": "1", "example": ""},
        {"component": "body", "name": "2", "example": ""},
    ]
