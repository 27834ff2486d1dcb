"""The owner of a new lead is e-mailed (by setting), and only the owner; the inbox notifies in the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail

from tests.support.delivery import deliver
from tests.support.factories import CampaignFactory, CampaignMemberFactory, LeadFactory
from whatsapp_leads.providers.meta.simulation import inbound
from whatsapp_leads.services import assignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def emails_on(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "NOTIFY_OWNER_BY_EMAIL": True,
                               "ADMIN_ORIGIN": "https://crm.example.com"}  # fmt: skip


def test_the_owner_of_a_new_lead_gets_an_email_with_a_link(
    emails_on, rep, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(name="Home loans")
    CampaignMemberFactory(campaign=campaign, user=rep)
    lead = LeadFactory(campaign=campaign, name="Asha", owner=None)

    with django_capture_on_commit_callbacks(execute=True):
        assignment.assign_new_lead(lead)

    (email,) = mail.outbox
    assert email.to == [rep.email]
    assert "Asha" in email.subject
    assert f"https://crm.example.com/admin/whatsapp_leads/lead/{lead.pk}/change/" in email.body
    assert "Campaign: Home loans" in email.body


def test_a_lead_made_by_a_webhook_emails_its_owner(
    emails_on, rep, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DEFAULT_OWNER": rep.username}
    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbound(wa_id="919800000009", name="Ravi", text="Price?"))
    assert [m.to for m in mail.outbox] == [[rep.email]]


def test_no_email_when_the_setting_is_off(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assignment.assign(LeadFactory(), owner=rep, reason="test")
    assert mail.outbox == []


def test_only_the_new_owner_is_emailed_on_a_reassignment(emails_on, rep, other_rep, manager,
                                                        django_capture_on_commit_callbacks):  # fmt: skip
    lead = LeadFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        assignment.reassign(lead, owner=other_rep, by=manager)
    assert [m.to for m in mail.outbox] == [[other_rep.email]]


def test_a_failing_mail_server_does_not_undo_the_assignment(
    emails_on, rep, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.support.people.BrokenEmailBackend"
    lead = LeadFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assignment.assign(lead, owner=rep, reason="test")
    lead.refresh_from_db()
    assert lead.owner == rep


def test_the_inbox_script_notifies_of_new_leads_and_messages():
    script = (Path(__file__).parents[1] / "whatsapp_leads/static/whatsapp_leads/admin/inbox.js").read_text()
    assert 'new Notification("WhatsApp leads"' in script
    assert "New lead: " in script and "New message from " in script
