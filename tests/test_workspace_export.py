"""CSV export: streamed, the same filters and row rule in the admin and the API."""

from __future__ import annotations

import csv
import gc
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.support.factories import AdFactory, LeadFactory
from tests.support.people import logged_in
from whatsapp_leads.models import Lead, LeadStatusChange
from whatsapp_leads.services import lead_export

pytestmark = pytest.mark.django_db

API = "/whatsapp/api/leads/"


def rows_of(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_api_csv_honours_the_filters_and_the_row_rule(rep, other_rep):
    mine_new = LeadFactory(owner=rep, status="new", name="Mine new")
    LeadFactory(owner=rep, status="lost", name="Mine lost")
    LeadFactory(owner=other_rep, status="new", name="Theirs new")

    rows = rows_of(logged_in(rep).get(API, {"format": "csv", "status": "new"}))

    assert [row["name"] for row in rows] == ["Mine new"]
    assert rows[0]["id"] == str(mine_new.pk) and rows[0]["owner"] == "asha_rep"


def test_api_csv_answers_a_bad_filter_with_a_json_400(rep):
    response = logged_in(rep).get(API, {"format": "csv", "status": "bogus"})
    assert response.status_code == 400
    assert "status" in response.json()


def test_csv_has_campaign_ad_owner_first_response_and_status_dates(rep):
    ad = AdFactory(name="Loan ad", campaign__name="=HYPERLINK(evil)")
    t0 = timezone.now() - timedelta(hours=2)
    lead = LeadFactory(owner=rep, ad=ad, campaign=ad.campaign, first_message_at=t0,
                       first_reply_at=t0 + timedelta(minutes=7), name="Asha")  # fmt: skip
    won_at = timezone.now() - timedelta(minutes=1)
    LeadStatusChange.objects.create(lead=lead, old_status="new", new_status="won", created_at=won_at)

    (row,) = rows_of(logged_in(rep).get(API, {"format": "csv"}))

    assert row["ad_id"] == ad.meta_id and row["ad_name"] == "Loan ad"
    assert row["campaign"] == "'=HYPERLINK(evil)"  # a spreadsheet will not run it
    assert row["first_response_seconds"] == "420"
    assert row["won_at"] == won_at.isoformat() and row["contacted_at"] == ""


def test_manager_exports_the_filtered_admin_list(manager, rep, other_rep):
    LeadFactory(owner=rep, status="qualified", name="Q1")
    LeadFactory(owner=other_rep, status="qualified", name="Q2")
    LeadFactory(owner=rep, status="new", name="N1")
    client = logged_in(manager)

    listing = client.get(reverse("admin:whatsapp_leads_lead_changelist"), {"status__exact": "qualified"})
    assert "Export CSV" in listing.content.decode()
    rows = rows_of(client.get(reverse("admin:whatsapp_leads_lead_export"), {"status__exact": "qualified"}))

    assert sorted(row["name"] for row in rows) == ["Q1", "Q2"]


def test_manager_exports_the_selection(manager):
    leads = [LeadFactory(name=f"L{i}") for i in range(3)]
    data = {"action": "export_csv", "_selected_action": [str(leads[0].pk), str(leads[2].pk)]}
    rows = rows_of(logged_in(manager).post(reverse("admin:whatsapp_leads_lead_changelist"), data))
    assert sorted(row["name"] for row in rows) == ["L0", "L2"]


def test_a_rep_has_no_admin_export(rep):
    LeadFactory(owner=rep)
    client = logged_in(rep)
    assert client.get(reverse("admin:whatsapp_leads_lead_export")).status_code == 403
    assert "Export CSV" not in client.get(reverse("admin:whatsapp_leads_lead_changelist")).content.decode()


def test_export_streams_rows_without_loading_them_all(rep):
    Lead.objects.bulk_create(
        [
            Lead(wa_id=f"91990000{i:04d}", phone=f"+91990000{i:04d}", name=f"N{i}", owner=rep)
            for i in range(3000)
        ]
    )
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is Lead)
    lines = lead_export.csv_lines(Lead.objects.all())
    next(lines)  # the header
    next(lines)
    gc.collect()
    alive = sum(1 for o in gc.get_objects() if type(o) is Lead) - before
    # One chunk (2,000 rows) is read at a time, never the 3,000.
    assert alive <= lead_export.CHUNK
    assert sum(1 for _ in lines) == 2999
