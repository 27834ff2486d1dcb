"""Search by phone in any format, by name, and by words in the messages, in the admin and the API."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory
from tests.support.people import logged_in
from whatsapp_leads.models import Lead
from whatsapp_leads.services.lead_search import search_leads

pytestmark = pytest.mark.django_db

TYPED = ["+91 98765 43210", "098765 43210", "98765-43210", "919876543210", "(98765) 43210"]


def asha(owner=None, **fields):
    lead = LeadFactory(wa_id="919876543210", phone="+919876543210", name="Asha Verma", owner=owner, **fields)
    MessageFactory(conversation=ConversationFactory(lead=lead), text="Need a home loan for a flat in Pune")
    return lead


def found(text: str) -> list[str]:
    return sorted(lead.name for lead in search_leads(Lead.objects.all(), text))


@pytest.mark.parametrize("typed", TYPED)
def test_a_phone_number_in_any_format_finds_the_lead(typed):
    asha()
    LeadFactory(wa_id="919812345678", phone="+919812345678", name="Someone else")
    assert found(typed) == ["Asha Verma"]


def test_words_from_the_messages_find_the_lead_whatever_the_case():
    asha()
    other = LeadFactory(name="Ravi")
    MessageFactory(conversation=ConversationFactory(lead=other), text="Car loan please")

    assert found("home loan") == ["Asha Verma"]
    assert found("PUNE") == ["Asha Verma"]
    assert found("loan") == ["Asha Verma", "Ravi"]
    assert found("loan Mumbai") == []  # every word must be there


def test_name_search_still_works():
    asha()
    assert found("verma") == ["Asha Verma"]


@pytest.mark.postgres
def test_message_search_uses_the_full_text_index_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'wl_message_text_fts'")
        (definition,) = cursor.fetchone()
        assert "gin" in definition and "to_tsvector('simple'::regconfig, text)" in definition
        cursor.execute("SET enable_seqscan = off")
        sql, params = search_leads(Lead.objects.all(), "home loan").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "wl_message_text_fts" in plan


def test_admin_search_finds_by_typed_phone_and_words_within_the_reps_own_leads(rep, other_rep):
    mine = asha(owner=rep)
    theirs = LeadFactory(owner=other_rep, name="Vikram's lead", wa_id="919876543211", phone="+919876543211")
    MessageFactory(conversation=ConversationFactory(lead=theirs), text="home loan too")
    client = logged_in(rep)
    changelist = reverse("admin:whatsapp_leads_lead_changelist")

    for q in ("98765-43210", "home loan"):
        html = client.get(changelist, {"q": q}).content.decode()
        assert reverse("admin:whatsapp_leads_lead_change", args=[mine.pk]) in html, q
        assert reverse("admin:whatsapp_leads_lead_change", args=[theirs.pk]) not in html, q


def test_api_search_finds_by_typed_phone_and_words_within_the_reps_own_leads(rep, other_rep):
    mine = asha(owner=rep)
    theirs = LeadFactory(owner=other_rep, name="Theirs")
    MessageFactory(conversation=ConversationFactory(lead=theirs), text="home loan too")
    client = logged_in(rep)

    for q in ("098765 43210", "home loan"):
        body = client.get("/whatsapp/api/leads/", {"search": q}).json()
        assert [row["id"] for row in body["results"]] == [mine.pk], q
