"""The lead page shows what changed about the lead (names, numbers, ids, merges, consent) and what it told us.

The history is made the real way: webhooks (messages, a Flow form, ``user_preferences``,
``user_id_update``, a ``user_changed_number`` system message) processed by the worker's code,
then the lead's page is read through the real admin, logged in as its rep.
"""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.support.delivery import deliver as process_ok
from tests.support.factories import UserFactory
from tests.support.kinds_support import load
from whatsapp_leads.models import Lead, LeadHistory
from whatsapp_leads.providers.meta.simulation import inbound

pytestmark = pytest.mark.django_db

OLD_NUMBER, NEW_NUMBER = "16505551234", "16505559999"  # the fixtures' user_changed_number
OLD_BSUID, NEW_BSUID = "US.13491208655302741918", "US.13491208655302741919"  # user_id_update
FIXTURES_AT = 1749416383  # Meta's sample time, used by every fixture below
LEAD_FORM = {"lead_form": {"email": "email", "full_name": "name", "city": "city", "budget": "budget_band"}}
SHOUTY_NAME = "<b>Sheena</b> & co"


@pytest.fixture
def rep():
    user = UserFactory(username="asha_rep", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="whatsapp_leads", codename__in=("view_lead", "change_lead")
        )
    )
    return user


@pytest.fixture
def lead(settings, rep) -> Lead:
    """A lead that renamed itself, filled a Flow form, stopped marketing, got a new id and a new number.

    A second lead had already written from the new number, so the number change merges it in.
    """
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "FLOW_FIELD_MAP": LEAD_FORM}
    process_ok(
        inbound(wa_id=OLD_NUMBER, user_id=OLD_BSUID, name="Sheena Nelson", timestamp=FIXTURES_AT - 600)
    )
    process_ok(inbound(wa_id=OLD_NUMBER, user_id=OLD_BSUID, name=SHOUTY_NAME, timestamp=FIXTURES_AT - 500))
    process_ok(inbound(wa_id=NEW_NUMBER, name="Sheena (new phone)", timestamp=FIXTURES_AT - 400))
    for fixture in (
        "interactive_nfm_reply",
        "user_preferences",
        "user_id_update",
        "system_user_changed_number",
    ):
        process_ok(load(fixture))
    lead = Lead.objects.get()
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    return lead


def page_of(user, lead: Lead) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:whatsapp_leads_lead_change", args=[lead.pk]))
    assert response.status_code == 200
    return response.content.decode()


def history_rows(page: str) -> list[tuple[str, str, str, str]]:
    """(what changed, before, after, why) per row of the history table, as the HTML has them."""
    section = page.split('<fieldset class="module wl-history"', 1)[1].split("</fieldset>", 1)[0]
    rows = re.findall(r'<tr class="wl-history-[a-z_]+">(.*?)</tr>', section, re.S)
    return [tuple(re.findall(r"<td>(.*?)</td>", row, re.S)[1:]) for row in rows]


def test_every_kind_of_change_is_listed_on_the_lead_page(lead, rep):
    rows = {
        (kind, html.unescape(before), html.unescape(after))
        for kind, before, after, _ in history_rows(page_of(rep, lead))
    }

    assert rows >= {
        ("Profile name", "Sheena Nelson", SHOUTY_NAME),
        ("Profile name", "Sheena Nelson", "Asha Verma"),  # from the Flow form
        ("Marketing consent", "allowed", "stopped"),
        ("Business-scoped user id", OLD_BSUID, NEW_BSUID),
        ("WhatsApp number", OLD_NUMBER, NEW_NUMBER),
        ("Phone", f"+{OLD_NUMBER}", f"+{NEW_NUMBER}"),
    }
    merged = [row for row in rows if row[0] == "Merged another lead"]
    assert len(merged) == 1 and "Sheena (new phone)" in merged[0][1]
    assert len(history_rows(page_of(rep, lead))) == LeadHistory.objects.filter(lead=lead).count()


def test_history_values_are_escaped(lead, rep):
    page = page_of(rep, lead)

    assert "&lt;b&gt;Sheena&lt;/b&gt; &amp; co" in page
    assert SHOUTY_NAME not in page


def test_newest_change_is_listed_first(lead, rep):
    newest = LeadHistory.objects.filter(lead=lead).order_by("-created_at", "-id").first()

    first_kind, first_before, first_after, _ = history_rows(page_of(rep, lead))[0]

    assert (first_kind, html.unescape(first_before), html.unescape(first_after)) == (
        newest.get_kind_display(),
        newest.previous,
        newest.current,
    )


def test_contact_details_form_answers_and_consent_are_shown(lead, rep):
    page = page_of(rep, lead)

    def field(name: str) -> str:
        """The read-only value shown for ``name`` on the lead form."""
        found = re.search(rf'field-{name}\b.*?<div class="readonly">(.*?)</div>', page, re.S)
        assert found, f"{name} is not on the page"
        return found.group(1)

    assert "asha.verma@example.com" in field("email")
    assert "Pune" in field("city")
    assert "budget_band" in field("form_answers") and "50L-1Cr" in field("form_answers")
    assert 'alt="True"' in field("marketing_opt_out")
    assert "2025" in field("marketing_opt_out_at")  # Meta's time of the stop, in the site's format


def test_a_lead_without_changes_has_no_history_section(rep):
    process_ok(inbound(wa_id="919876543210", name="Asha Verma", timestamp=FIXTURES_AT))
    lead = Lead.objects.get()
    Lead.objects.filter(pk=lead.pk).update(owner=rep)

    assert "wl-history" not in page_of(rep, lead)


def test_the_lead_form_still_saves_without_posting_the_history_back(lead, rep):
    client = Client()
    client.force_login(rep)
    rows = lead.assignments.count()

    response = client.post(
        reverse("admin:whatsapp_leads_lead_change", args=[lead.pk]),
        {
            "name": "Sheena Nelson",
            "status": "contacted",
            "assignments-TOTAL_FORMS": rows,
            "assignments-INITIAL_FORMS": rows,
            "assignments-MIN_NUM_FORMS": 0,
            "assignments-MAX_NUM_FORMS": 1000,
        },
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.name, lead.status) == ("Sheena Nelson", "contacted")
