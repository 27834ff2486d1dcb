"""A lead's deal value and currency: asked for when it is won, writable in the admin and the API,
and the value Meta's Purchase event carries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.factories import LeadFactory
from tests.support.people import logged_in
from whatsapp_leads.models import ConversionEvent, Lead

pytestmark = pytest.mark.django_db
CLID = "Aff-n8ZTODiE79d22KtAwQKj9e"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def lead_url(lead: Lead) -> str:
    return reverse("whatsapp_leads:lead-detail", args=[lead.pk])


def change_url(lead: Lead) -> str:
    return reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])


def test_patch_sets_deal_value_and_currency_and_the_detail_shows_them(rep):
    lead = LeadFactory(owner=rep)

    response = api(rep).patch(
        lead_url(lead), {"deal_value": "125000.50", "deal_currency": "inr"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["deal_value"], response.json()["deal_currency"]) == ("125000.50", "INR")
    lead.refresh_from_db()
    assert (lead.deal_value, lead.deal_currency) == (Decimal("125000.50"), "INR")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"deal_value": "-1"}, "deal_value"), ({"deal_currency": "RUPEES"}, "deal_currency"),
     ({"deal_currency": "₹₹₹"}, "deal_currency"), ({"deal_value": "abc"}, "deal_value")],
)  # fmt: skip
def test_patch_refuses_a_bad_deal_value_or_currency_by_name(rep, body, field):
    lead = LeadFactory(owner=rep)
    response = api(rep).patch(lead_url(lead), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    lead.refresh_from_db()
    assert lead.deal_value is None and lead.deal_currency == ""


def test_patch_won_with_a_value_records_a_purchase_with_that_value(
    rep, fake_graph, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=rep, ctwa_clid=CLID)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(rep).patch(lead_url(lead), {"status": "won", "deal_value": "4999"}, format="json")
    assert response.status_code == 200
    purchase = ConversionEvent.objects.get(event_name="Purchase")
    assert (purchase.value, purchase.currency) == (Decimal("4999.00"), "INR")


def lead_form(lead: Lead, **changes) -> dict:
    data = {
        "name": lead.name,
        "status": lead.status,
        "deal_value": "" if lead.deal_value is None else str(lead.deal_value),
        "deal_currency": lead.deal_currency,
        "assignments-TOTAL_FORMS": 0,
        "assignments-INITIAL_FORMS": 0,
        "assignments-MIN_NUM_FORMS": 0,
        "assignments-MAX_NUM_FORMS": 1000,
    }
    data.update(changes)
    return data


def test_marking_a_lead_won_in_the_admin_asks_for_its_deal_value(rep):
    lead = LeadFactory(owner=rep)

    response = logged_in(rep).post(change_url(lead), lead_form(lead, status="won"))

    assert response.status_code == 200
    assert "A won lead needs its deal value" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW


def test_a_rep_marks_a_lead_won_with_its_value_in_the_admin(rep):
    lead = LeadFactory(owner=rep)

    response = logged_in(rep).post(
        change_url(lead), lead_form(lead, status="won", deal_value="75000", deal_currency="USD")
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.deal_value, lead.deal_currency) == (Lead.Status.WON, Decimal("75000"), "USD")
