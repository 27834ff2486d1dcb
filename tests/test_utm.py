"""UTM and custom parameters: from the ad URL of the referral (however it is encoded) and from the
reference code of a prefilled first message, stored on the lead, filterable, exported, routed."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.delivery import deliver
from tests.support.factories import CampaignFactory, LeadFactory
from tests.support.people import LEAD_PERMS, logged_in, staff
from tests.support.world import AD_ID
from whatsapp_leads.models import Lead
from whatsapp_leads.providers.meta.simulation import inbound
from whatsapp_leads.services.utm import from_url, reference_code

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/loan?utm_source=facebook&utm_medium=ctwa&utm_campaign=diwali_2026",
         {"utm_source": "facebook", "utm_medium": "ctwa", "utm_campaign": "diwali_2026"}),
        ("https://example.com/?utm_source=fb&amp;utm_campaign=diwali", {"utm_source": "fb", "utm_campaign": "diwali"}),
        ("https://example.com/?utm_campaign=Diwali%2BOffer+2026", {"utm_campaign": "Diwali+Offer 2026"}),
        ("https://example.com/?utm_campaign=Diwali%2520Offer", {"utm_campaign": "Diwali Offer"}),  # encoded twice
        ("https%3A%2F%2Fexample.com%2F%3Futm_source%3Dig%26utm_content%3Dreel", {"utm_source": "ig", "utm_content": "reel"}),
        ("https://example.com/#/offer?utm_source=fb&utm_term=loan", {"utm_source": "fb", "utm_term": "loan"}),
        ("https://example.com/?UTM_Source=FB&utm_source=second", {"utm_source": "FB"}),  # first one wins
        ("https://example.com/?utm_campaign=%E0%A4%A6%E0%A4%BF%E0%A4%B5%E0%A4%BE%E0%A4%B2%E0%A5%80",
         {"utm_campaign": "दिवाली"}),
        ("https://example.com/?utm_campaign=%FF%FEbad&x=%ZZ", {"utm_campaign": "\ufffd\ufffdbad", "x": "%ZZ"}),
        ("https://example.com/?utm_source=&empty", {}),
        ("https://example.com/?ad=1&gclid=abc", {"ad": "1", "gclid": "abc"}),  # custom parameters too
        ("https://fb.me/3cr4Wqqkv", {}),
        ("http://[::1:bad/?utm_source=x", {}),  # not a URL at all
        ("", {}),
    ],
)  # fmt: skip
def test_query_parameters_are_read_from_ad_urls_in_odd_encodings(url, expected):
    assert from_url(url) == expected


def test_a_hostile_url_keeps_a_bounded_number_of_short_parameters():
    url = "https://x.example/?" + "&".join(f"k{n}={'v' * 5000}" for n in range(100)) + "&nul=a%00b"
    found = from_url(url)
    assert len(found) == 30
    assert all(len(v) <= 200 for v in found.values())


@pytest.mark.parametrize(
    ("text", "code"),
    [("[HL-DIWALI] I want a home loan", "HL-DIWALI"), ("Hi! [ hl-diwali ] loan?", "HL-DIWALI"),
     ("मुझे लोन चाहिए [CAR_2026.A]", "CAR_2026.A"), ("no code here", ""), ("[ ] []", ""), ("[a b]", "")],
)  # fmt: skip
def test_the_reference_code_of_a_prefilled_message(text, code):
    assert reference_code(text) == code


def test_an_ad_lead_stores_its_url_parameters_and_reference_code():
    payload = inbound(ad_id=AD_ID, text="[HL-DIWALI] I want a home loan")
    referral = payload["entry"][0]["changes"][0]["value"]["messages"][0]["referral"]
    referral["source_url"] = "https://bank.example/loan?utm_source=facebook&amp;utm_campaign=diwali%2520offer"

    deliver(payload)

    assert Lead.objects.get().utm == {
        "utm_source": "facebook",
        "utm_campaign": "diwali offer",
        "ref": "HL-DIWALI",
    }


def test_a_later_message_does_not_overwrite_the_first_touch():
    deliver(inbound(ad_id=AD_ID, text="[HL-DIWALI] hello", timestamp=1749416383))
    deliver(inbound(text="[OTHER] me again", timestamp=1749416483))
    assert Lead.objects.get().utm == {"ref": "HL-DIWALI"}


def test_a_reference_code_claims_an_organic_chat_for_its_campaign_before_keywords():
    coded = CampaignFactory(name="Diwali", reference_code="hl-diwali")
    CampaignFactory(name="Loans", keywords="loan", keyword_priority=10)

    deliver(inbound(text="[HL-DIWALI] I want a loan"))

    lead = Lead.objects.get()
    assert lead.campaign == coded
    assert "[HL-DIWALI]" in lead.assignments.get().reason


def test_the_api_shows_and_filters_by_utm_and_reference_code(rep):
    diwali = LeadFactory(
        owner=rep, utm={"utm_source": "facebook", "utm_campaign": "diwali", "ref": "HL-DIWALI"}
    )
    LeadFactory(owner=rep, utm={"utm_source": "instagram"})
    client = APIClient()
    client.force_authenticate(rep)
    url = reverse("whatsapp_leads:lead-list")

    def ids(**params) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(utm_source="facebook") == {diwali.pk}
    assert ids(utm_campaign="diwali", ref="[hl-diwali]") == {diwali.pk}
    assert ids(utm_medium="cpc") == set()
    detail = client.get(reverse("whatsapp_leads:lead-detail", args=[diwali.pk])).json()
    assert detail["utm"] == {"utm_source": "facebook", "utm_campaign": "diwali", "ref": "HL-DIWALI"}


def test_the_csv_export_carries_utm_and_neutralises_formulas():
    manager = staff(*LEAD_PERMS, "view_all_leads", username="meera")
    lead = LeadFactory(name="=HYPERLINK(\"x\")", utm={"utm_source": "fb", "ref": "HL-DIWALI", "gclid": "abc"},
                       country="IN", city="Pune", location={"source": "phone", "carrier": "Jio"})  # fmt: skip
    response = logged_in(manager).post(
        reverse("admin:whatsapp_leads_lead_changelist"),
        {"action": "export_csv", "_selected_action": [lead.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0]["name"] == '\'=HYPERLINK("x")'
    assert (rows[0]["utm_source"], rows[0]["ref"], rows[0]["other_parameters"]) == (
        "fb",
        "HL-DIWALI",
        "gclid=abc",
    )
    assert (rows[0]["country"], rows[0]["city"], rows[0]["carrier"]) == ("IN", "Pune", "Jio")
