"""The workspace's refusals and edges: bad input answered in words, pages past the end, unknown URLs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.support.factories import LeadFactory
from tests.support.outbound import lead_who_wrote
from tests.support.people import logged_in
from whatsapp_leads.admin import inbox
from whatsapp_leads.models import Lead, LeadNote, LeadStatusChange
from whatsapp_leads.services import lead_status, notifications

pytestmark = pytest.mark.django_db


def url(name: str, lead) -> str:
    return reverse(f"admin:whatsapp_leads_lead_{name}", args=[lead.pk])


def test_change_status_refuses_an_unknown_status_and_records_nothing_when_unchanged(rep):
    lead = LeadFactory(status="contacted")
    with pytest.raises(ValueError, match="unknown status"):
        lead_status.change_status(lead, status="bogus")
    assert lead_status.change_status(lead, status="contacted", by=rep) is False
    assert not LeadStatusChange.objects.exists()


def test_the_work_urls_answer_get_with_404_and_bad_input_in_words(rep):
    lead = lead_who_wrote(owner=rep)
    client = logged_in(rep)
    assert client.get(url("status", lead)).status_code == 404

    page = client.post(url("status", lead), {"status": "new"}, follow=True).content.decode()
    assert "Choose Contacted, Qualified, Won or Lost." in page
    page = client.post(url("status", lead), {"status": "won", "deal_value": "lots", "deal_currency": "INR"},
                       follow=True).content.decode()  # fmt: skip
    assert "Won needs the deal" in page
    page = client.post(url("note", lead), {"note": "   "}, follow=True).content.decode()
    assert "Type the note before pressing Add note." in page
    page = client.post(url("follow_up", lead), {"follow_up_at": "tomorrow"}, follow=True).content.decode()
    assert "Give the follow-up" in page
    lead.refresh_from_db()
    assert lead.status == "new" and lead.follow_up_at is None and not LeadNote.objects.exists()


def test_the_same_status_twice_says_already(rep):
    lead = lead_who_wrote(owner=rep, status="qualified")
    page = logged_in(rep).post(url("status", lead), {"status": "qualified"}, follow=True).content.decode()
    assert "Already Qualified." in page


def test_inbox_pages_and_unknown_paths(rep):
    now = timezone.now()
    for n in range(inbox.PAGE_SIZE + 1):
        LeadFactory(owner=rep, awaiting_reply_since=now - timedelta(minutes=n + 1), name=f"L{n}")
    client = logged_in(rep)
    first = client.get(reverse("admin:whatsapp_leads_inbox")).content.decode()
    second = client.get(reverse("admin:whatsapp_leads_inbox"), {"page": "2"}).content.decode()
    bogus = client.get(reverse("admin:whatsapp_leads_inbox"), {"page": "x", "view": "nope"})
    assert "Next</a>" in first and "Previous</a>" in second
    assert second.count('data-lead-id="') == 1
    assert bogus.status_code == 200
    assert client.get("/admin/whatsapp_leads/inbox/1/change/").status_code == 302


def test_short_durations_read_at_a_glance():
    assert inbox.short_duration(timedelta(minutes=7)) == "7 min"
    assert inbox.short_duration(timedelta(hours=3)) == "3 h"
    assert inbox.short_duration(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert inbox.short_duration(timedelta(days=2, hours=4)) == "2 d 4 h"
    assert inbox.short_duration(timedelta(days=2)) == "2 d"


def test_no_email_for_nobody_or_the_same_owner(settings, rep):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "NOTIFY_OWNER_BY_EMAIL": True}
    lead = LeadFactory(owner=rep)
    assert notifications.email_new_owner(lead=lead, owner=None) is False
    assert notifications.email_new_owner(lead=lead, owner=rep, previous_owner=rep) is False
    rep.email = ""
    assert notifications.email_new_owner(lead=lead, owner=rep) is False
    assert mail.outbox == []


def test_an_ad_card_without_a_readable_referral_shows_the_stored_names(rep):
    from tests.support.factories import AdFactory

    ad = AdFactory(name="Loan ad", campaign__name="Loans")
    lead = lead_who_wrote(owner=rep, ad=ad, campaign=ad.campaign)
    Lead.objects.filter(pk=lead.pk).update(referral=["not", "an", "object"])
    html = logged_in(rep).get(url("change", lead)).content.decode()
    assert "The ad they saw" in html and "Loan ad" in html
