"""The lead page's work panel: quick status (Won asks for the deal value), notes, follow-up,
status history from every path, contact and ad cards, and the row rule on each of its URLs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.support.factories import AdFactory, MessageFactory
from tests.support.outbound import lead_who_wrote
from tests.support.people import logged_in
from whatsapp_leads.models import Lead, LeadNote, LeadStatusChange

pytestmark = pytest.mark.django_db


def url(name: str, lead) -> str:
    return reverse(f"admin:whatsapp_leads_lead_{name}", args=[lead.pk])


def test_quick_button_marks_the_lead_qualified_and_records_who_and_from_where(rep):
    lead = lead_who_wrote(owner=rep)
    response = logged_in(rep).post(url("status", lead), {"status": "qualified"}, follow=True)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUALIFIED
    change = LeadStatusChange.objects.get()
    assert (change.old_status, change.new_status, change.changed_by, change.source) == (
        "new", "qualified", rep, "quick")  # fmt: skip
    assert "Marked Qualified." in response.content.decode()
    assert "new → <strong>qualified</strong>" in response.content.decode()


def test_won_needs_the_deal_value_and_keeps_it_on_the_lead_and_the_change(rep):
    lead = lead_who_wrote(owner=rep)
    client = logged_in(rep)

    refused = client.post(url("status", lead), {"status": "won"}, follow=True)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    assert "Won needs the deal" in refused.content.decode()

    client.post(url("status", lead), {"status": "won", "deal_value": "1,25,000", "deal_currency": "inr"})
    lead.refresh_from_db()
    change = LeadStatusChange.objects.get()
    assert lead.status == Lead.Status.WON
    assert (str(change.deal_value), change.deal_currency) == ("125000.00", "INR")
    # the lead's deal is what the Purchase event and the revenue figures read (the ad loop)
    assert (str(lead.deal_value), lead.deal_currency) == ("125000.00", "INR")


def test_notes_are_added_and_shown_with_author_and_time(rep):
    lead = lead_who_wrote(owner=rep)
    page = logged_in(rep).post(url("note", lead), {"note": "Wants a 20-year loan <b>asap</b>"}, follow=True)

    note = LeadNote.objects.get()
    assert (note.lead, note.author, note.text) == (lead, rep, "Wants a 20-year loan <b>asap</b>")
    html = page.content.decode()
    assert "Wants a 20-year loan &lt;b&gt;asap&lt;/b&gt;" in html
    assert "asha_rep ·" in html


def test_follow_up_is_set_shown_due_and_cleared(rep):
    lead = lead_who_wrote(owner=rep)
    client = logged_in(rep)
    soon = (timezone.localtime() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")

    client.post(url("follow_up", lead), {"follow_up_at": soon, "follow_up_note": "Call about EMI"})
    lead.refresh_from_db()
    assert lead.follow_up_note == "Call about EMI" and lead.follow_up_at <= timezone.now()
    listed = client.get(reverse("admin:whatsapp_leads_lead_changelist") + "?follow_up=due").content.decode()
    assert url("change", lead) in listed

    client.post(url("follow_up", lead), {"clear": "1"})
    lead.refresh_from_db()
    assert (lead.follow_up_at, lead.follow_up_note) == (None, "")


@pytest.mark.parametrize(
    ("name", "data"),
    [("status", {"status": "lost"}), ("note", {"note": "peek"}), ("follow_up", {"clear": "1"})],
)
def test_another_reps_lead_is_a_404_on_every_work_url(rep, other_rep, name, data):
    theirs = lead_who_wrote(owner=other_rep, follow_up_note="keep")
    response = logged_in(rep).post(url(name, theirs), data)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Lead.Status.NEW and theirs.follow_up_note == "keep"
    assert not LeadNote.objects.exists()


def test_a_status_change_on_the_lead_form_is_recorded_with_old_and_new(rep):
    lead = lead_who_wrote(owner=rep, name="Asha")
    data = {"name": "Asha", "status": "contacted", "assignments-TOTAL_FORMS": "0",
            "assignments-INITIAL_FORMS": "0", "_save": "Save"}  # fmt: skip
    response = logged_in(rep).post(url("change", lead), data)
    assert response.status_code == 302
    change = LeadStatusChange.objects.get()
    assert (change.old_status, change.new_status, change.source, change.changed_by) == (
        "new", "contacted", "admin", rep)  # fmt: skip


def test_an_api_status_change_is_recorded(rep):
    lead = lead_who_wrote(owner=rep)
    response = logged_in(rep).patch(
        f"/whatsapp/api/leads/{lead.pk}/", json.dumps({"status": "lost"}), content_type="application/json"
    )
    assert response.status_code == 200
    change = LeadStatusChange.objects.get()
    assert (change.old_status, change.new_status, change.source, change.changed_by) == (
        "new", "lost", "api", rep)  # fmt: skip


def test_bulk_status_change_touches_only_the_reps_own_leads(rep, other_rep):
    mine = [lead_who_wrote(owner=rep) for _ in range(2)]
    theirs = lead_who_wrote(owner=other_rep)
    data = {"action": "mark_contacted", "_selected_action": [str(x.pk) for x in [*mine, theirs]]}
    logged_in(rep).post(reverse("admin:whatsapp_leads_lead_changelist"), data)

    assert set(Lead.objects.filter(status="contacted")) == set(mine)
    assert set(LeadStatusChange.objects.values_list("source", flat=True)) == {"bulk"}
    assert LeadStatusChange.objects.count() == 2


def test_contact_card_has_tel_and_wa_me_links(rep):
    lead = lead_who_wrote(owner=rep, wa_id="919876543210", phone="+919876543210")
    html = logged_in(rep).get(url("change", lead)).content.decode()
    assert 'href="tel:+919876543210"' in html
    assert 'href="https://wa.me/919876543210"' in html


def test_ad_card_shows_what_the_person_saw(rep):
    ad = AdFactory(name="Home loan 8.5%", campaign__name="Home loans Q3")
    referral = {"source_id": ad.meta_id, "headline": "Home loans at 8.5%", "body": "Apply in 5 minutes",
                "image_url": "https://scontent.example/ad.jpg", "source_url": "https://fb.me/abc"}  # fmt: skip
    lead = lead_who_wrote(owner=rep, ad=ad, campaign=ad.campaign, referral=referral)
    Lead.objects.filter(pk=lead.pk).update(referral=referral)

    html = logged_in(rep).get(url("change", lead)).content.decode()
    for shown in ("Home loans at 8.5%", "Apply in 5 minutes", 'src="https://scontent.example/ad.jpg"',
                  'href="https://fb.me/abc"', "Home loan 8.5%", "Home loans Q3"):  # fmt: skip
        assert shown in html


def test_lead_page_queries_do_not_grow_with_messages_notes_or_changes(rep):
    lead = lead_who_wrote(owner=rep)
    client = logged_in(rep)
    client.get(url("change", lead))
    with CaptureQueriesContext(connection) as few:
        client.get(url("change", lead))
    conversation = lead.conversations.get()
    for i in range(20):
        MessageFactory(conversation=conversation, text=f"more {i}")
        LeadNote.objects.create(lead=lead, author=rep, text=f"note {i}")
        LeadStatusChange.objects.create(lead=lead, old_status="new", new_status="contacted", changed_by=rep)
    with CaptureQueriesContext(connection) as many:
        client.get(url("change", lead))
    assert len(many) == len(few)


def test_a_reps_owner_field_and_assignment_history_never_link_to_user_pages(rep, manager):
    from whatsapp_leads.services import assignment

    lead = lead_who_wrote(owner=None)
    assignment.reassign(lead, owner=rep, by=manager)
    html = logged_in(rep).get(url("change", lead)).content.decode()
    assert "/admin/auth/user/" not in html
    assert "Asha Verma" in html  # the owner, by name


def test_notes_sit_in_the_transcripts_timeline_between_the_messages_by_time(rep):
    from whatsapp_leads.admin.transcript import build_transcript
    from whatsapp_leads.models import Message

    lead = lead_who_wrote(owner=rep)
    first = Message.objects.get(conversation__lead=lead)
    LeadNote.objects.create(
        lead=lead,
        author=rep,
        text="Called: wants EMI options",
        created_at=first.timestamp + timedelta(minutes=5),
    )
    MessageFactory(
        conversation=first.conversation,
        direction="inbound",
        text="Any update?",
        timestamp=first.timestamp + timedelta(minutes=10),
    )

    lines = build_transcript(lead).lines

    assert [(line.is_note, line.text) for line in lines] == [
        (False, first.text),
        (True, "Called: wants EMI options"),
        (False, "Any update?"),
    ]
    assert lines[1].note_by == (rep.get_full_name() or rep.get_username())
    html = logged_in(rep).get(reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])).content.decode()
    assert "Note by" in html and "not sent" in html
    assert html.index("Called: wants EMI options") < html.index("Any update?")
