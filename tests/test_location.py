"""Where the person is: a shared location, a Flow's city answer, or else what the number tells."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.delivery import deliver
from tests.support.factories import LeadFactory
from tests.support.kinds_support import load, message
from whatsapp_leads.models import Lead
from whatsapp_leads.providers.meta.simulation import inbound
from whatsapp_leads.services.location import from_number

pytestmark = pytest.mark.django_db
PIN = {"latitude": 18.5679, "longitude": 73.9143, "name": "Phoenix Marketcity",
       "address": "Viman Nagar, Pune, Maharashtra 411014"}  # fmt: skip


@pytest.fixture
def flow_map(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "FLOW_FIELD_MAP": {"lead_form": {"city": "city"}}}


def flow_city(city: str, *, at: int) -> dict:
    payload = load("interactive_nfm_reply")
    raw = message(payload)
    raw["interactive"]["nfm_reply"]["response_json"] = json.dumps(
        {"flow_token": "lead_form:8f2a", "city": city}
    )
    raw["timestamp"], raw["id"] = str(at), f"wamid.flow{at}"
    return payload


def shared_pin(*, at: int, **location) -> dict:
    payload = load("location")
    raw = message(payload)
    raw["location"] = {**raw["location"], **location}
    raw["timestamp"], raw["id"] = str(at), f"wamid.pin{at}"
    return payload


def test_a_shared_location_sets_the_leads_location_with_its_name_address_and_coordinates():
    deliver(load("location"))

    lead = Lead.objects.get()
    assert lead.location == {"source": "shared_location", **PIN}
    assert lead.country == "US"  # the pin names no country; the number (+1 650) does


def test_a_flows_city_answer_sets_the_location(flow_map):
    deliver(flow_city("Pune", at=1749416383))

    lead = Lead.objects.get()
    assert (lead.city, lead.location) == ("Pune", {"source": "flow", "city": "Pune"})


def test_a_pin_after_a_typed_city_keeps_both_and_a_later_city_keeps_the_pin(flow_map):
    deliver(flow_city("Pune", at=1749416383))
    deliver(shared_pin(at=1749416400))
    lead = Lead.objects.get()
    assert lead.location == {"source": "shared_location", **PIN, "city": "Pune"}

    deliver(flow_city("Mumbai", at=1749416500))
    lead.refresh_from_db()
    assert lead.location == {"source": "shared_location", **PIN, "city": "Mumbai"}


def test_coordinates_off_the_globe_are_ignored():
    deliver(shared_pin(at=1749416383, latitude=200, longitude="abc"))
    assert Lead.objects.get().location["source"] == "phone"


def test_a_mobile_number_alone_gives_the_country_and_the_carrier():
    deliver(inbound(wa_id="919876543210"))

    lead = Lead.objects.get()
    assert (lead.country, lead.city) == ("IN", "")
    assert lead.location == {"source": "phone", "carrier": "Airtel"}


def test_a_landline_number_alone_gives_the_country_and_the_city():
    deliver(inbound(wa_id="912024567890"))

    lead = Lead.objects.get()
    assert (lead.country, lead.city) == ("IN", "Pune")
    assert lead.location == {"source": "phone", "city": "Pune", "area": "Pune, Maharashtra"}


def test_a_number_that_may_be_mobile_gives_a_city_only_when_it_names_one():
    assert from_number("+14155552671") == (
        "US",
        {"source": "phone", "city": "San Francisco", "area": "San Francisco, CA"},
    )
    assert from_number("+16505551234") == ("US", {"source": "phone"})  # geocoded to "California" only


@pytest.mark.parametrize("phone", ["", "+", "not a number", "+80012345678"])
def test_a_number_that_tells_nothing_gives_nothing(phone):
    assert from_number(phone) == ("", {})


def test_the_api_filters_leads_by_country_in_any_case(rep):
    indian = LeadFactory(owner=rep, country="IN")
    LeadFactory(owner=rep, country="AE")
    client = APIClient()
    client.force_authenticate(rep)

    response = client.get(reverse("whatsapp_leads:lead-list"), {"country": "in"})

    assert [row["id"] for row in response.json()["results"]] == [indian.pk]
    detail = client.get(reverse("whatsapp_leads:lead-detail", args=[indian.pk])).json()
    assert detail["country"] == "IN" and "location" in detail
