"""The lead list's UTM filters, in the admin and the REST API: values from the leads a user may see,
rows narrowed exactly, and (on PostgreSQL) the query the lead table's UTM indexes answer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.factories import LeadFactory
from tests.support.people import logged_in
from whatsapp_leads.models import Lead
from whatsapp_leads.services import utm_filter

pytestmark = pytest.mark.django_db
LIST = "admin:whatsapp_leads_lead_changelist"


@pytest.fixture
def leads(rep, other_rep):
    return {
        "diwali": LeadFactory(
            owner=rep, name="Priyanka Lead", utm={"utm_source": "facebook", "utm_campaign": "diwali"}
        ),
        "reel": LeadFactory(
            owner=rep, name="Ravindra Lead", utm={"utm_source": "instagram", "utm_campaign": "reel"}
        ),
        "plain": LeadFactory(owner=rep, name="Sunil Lead", utm={}),
        "secret": LeadFactory(
            owner=other_rep, name="Zoya Lead", utm={"utm_source": "google", "utm_campaign": "rival"}
        ),
    }


def shown(client, **params) -> str:
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_rep_is_offered_only_the_utm_values_of_leads_they_may_see(rep, leads):
    page = shown(logged_in(rep))
    assert "By UTM source" in page and "By UTM campaign" in page
    assert "?utm_source=facebook" in page and "?utm_source=instagram" in page
    assert "?utm_campaign=diwali" in page
    assert "google" not in page and "rival" not in page  # another rep's lead's campaign


def test_a_manager_is_offered_every_value(manager, leads):
    page = shown(logged_in(manager))
    assert "?utm_source=google" in page and "?utm_campaign=rival" in page


def test_the_admin_filter_narrows_the_list_and_never_widens_what_a_rep_sees(rep, leads):
    client = logged_in(rep)
    page = shown(client, utm_source="facebook")
    assert "Priyanka Lead" in page and "Ravindra Lead" not in page and "Sunil Lead" not in page
    page = shown(client, utm_campaign="reel")
    assert "Ravindra Lead" in page and "Priyanka Lead" not in page
    assert "Zoya Lead" not in shown(client, utm_source="google")  # another rep's: still invisible


def test_the_api_filters_by_utm_source_and_campaign_within_what_the_user_may_see(rep, leads):
    client = APIClient()
    client.force_authenticate(rep)

    def ids(**params) -> set[int]:
        response = client.get(reverse("whatsapp_leads:lead-list"), params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(utm_source="facebook") == {leads["diwali"].pk}
    assert ids(utm_campaign="reel", utm_source="instagram") == {leads["reel"].pk}
    assert ids(utm_source="Facebook") == set()  # exact, as stored
    assert ids(utm_source="google") == set()
    assert client.get(reverse("whatsapp_leads:lead-list"), {"utm_source": "a\x00b"}).status_code == 400


def test_the_schema_documents_the_utm_parameters():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p for p in schema["paths"]["/whatsapp/api/leads/"]["get"]["parameters"]}
    assert "utm_source" in parameters and "utm_campaign" in parameters
    assert "utm_source" in parameters["utm_source"]["description"]


def test_values_present_are_distinct_sorted_non_empty_and_bounded(leads):
    LeadFactory(utm={"utm_source": "facebook"})
    LeadFactory(utm={"utm_source": ""})
    LeadFactory(utm={"utm_campaign": "x"})
    assert utm_filter.values_present(Lead.objects.all(), "utm_source") == ["facebook", "google", "instagram"]
    assert utm_filter.values_present(Lead.objects.all(), "utm_source", limit=1) == ["facebook"]


@pytest.mark.postgres
def test_on_postgresql_the_filter_is_answered_by_the_utm_index(leads):
    if connection.vendor != "postgresql":
        pytest.skip("expression indexes are checked on PostgreSQL")
    query = utm_filter.filter_by(Lead.objects.all(), "utm_source", "facebook")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "wl_lead_utm_source" in plan, plan
