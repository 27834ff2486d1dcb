"""Reaching erasure and export: the admin actions (managers, a confirmation page), DELETE on the API,
and the management commands; the export is one JSON document of everything stored about the person."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.delivery import deliver
from tests.support.people import LEAD_PERMS, logged_in, staff
from tests.support.world import T0
from whatsapp_leads.models import ErasureRecord, Lead, Message
from whatsapp_leads.providers.meta.simulation import (
    contact,
    envelope,
    messages_value,
    status,
    statuses_value,
    text_message,
)
from whatsapp_leads.services.privacy import export_person

pytestmark = pytest.mark.django_db

WA, OLD_WA, NAME = "919876500011", "919876500099", "Meera Iyer"
WORDS = "Salary slip attached for the loan"
CHANGELIST = "admin:whatsapp_leads_lead_changelist"


def person() -> Lead:
    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=OLD_WA, text="first hello", message_id="wamid.M0", timestamp=T0)],
                [contact(wa_id=OLD_WA, name=NAME)],
            )
        )
    )
    system = {"body": "changed", "wa_id": WA, "type": "user_changed_number"}
    raw = {"from": OLD_WA, "id": "wamid.M1", "timestamp": str(T0 + 60), "type": "system", "system": system}
    deliver(envelope(messages_value([raw], [contact(wa_id=OLD_WA, name=NAME)])))
    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=WA, text=WORDS, message_id="wamid.M2", timestamp=T0 + 120)],
                [contact(wa_id=WA, name=NAME)],
            )
        )
    )
    deliver(envelope(statuses_value([status("wamid.NEVER", "read", recipient=WA, timestamp=T0)])))
    return Lead.objects.get(wa_id=WA)


@pytest.fixture
def manager():
    return staff(*LEAD_PERMS, "view_all_leads", "delete_lead")


# --- export ---------------------------------------------------------------------------------------


def test_the_export_holds_the_lead_its_messages_history_statuses_and_mentions():
    lead = person()

    document = json.loads(json.dumps(export_person(lead), default=str))

    assert document["lead"]["wa_id"] == WA and document["lead"]["name"] == NAME
    texts = [m["text"] for m in document["related"]["whatsapp_leads.Message"]]
    assert WORDS in texts
    history = document["related"]["whatsapp_leads.LeadHistory"]
    assert {(h["kind"], h["previous"]) for h in history} >= {("wa_id", OLD_WA)}
    assert [s["wamid"] for s in document["mentions"]["whatsapp_leads.StatusUpdate"]] == ["wamid.NEVER"]
    assert document["files"] == []
    assert len(document["webhook_events_mentioning"]) == 4


def test_the_export_command_finds_the_person_by_an_old_number_and_prints_json():
    lead = person()
    out = StringIO()

    call_command("whatsapp_export_person", "--phone", f"+{OLD_WA}", stdout=out)

    assert json.loads(out.getvalue())["lead"]["id"] == lead.pk


def test_the_export_command_writes_a_file(tmp_path):
    person()
    target = tmp_path / "export.json"

    call_command("whatsapp_export_person", "--wa-id", WA, "--output", str(target), stderr=StringIO())

    assert WORDS in target.read_text(encoding="utf-8")


def test_the_commands_refuse_without_a_person_or_when_nobody_matches():
    with pytest.raises(CommandError, match="--phone"):
        call_command("whatsapp_export_person")
    with pytest.raises(CommandError, match="No lead"):
        call_command("whatsapp_erase", "--wa-id", "910000000000", "--yes", "--reason", "x")


def test_the_admin_export_action_downloads_json_for_managers(manager):
    lead = person()

    response = logged_in(manager).post(
        reverse(CHANGELIST), {"action": "export_personal_data", "_selected_action": [lead.pk]}
    )

    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["lead"]["name"] == NAME


# --- erasure through the command --------------------------------------------------------------------


def test_the_erase_command_dry_run_lists_what_goes_and_erases_nothing():
    lead = person()
    out = StringIO()

    call_command("whatsapp_erase", "--lead", str(lead.pk), "--dry-run", stdout=out)

    assert "3 messages" in out.getvalue() and "Dry run" in out.getvalue()
    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_the_erase_command_needs_a_reason_and_records_who_asked(manager):
    lead = person()
    with pytest.raises(CommandError, match="--reason"):
        call_command("whatsapp_erase", "--user-id", "", "--phone", WA, "--yes", stdout=StringIO())
    out = StringIO()

    call_command(
        "whatsapp_erase",
        "--phone",
        WA,
        "--yes",
        "--reason",
        "request 12",
        "--by",
        manager.username,
        stdout=out,
    )

    record = ErasureRecord.objects.get()
    assert (record.trigger, record.erased_by, record.lead_id_erased) == ("command", manager, lead.pk)
    assert f"Erased lead #{lead.pk}" in out.getvalue()
    assert not Message.objects.exists()


# --- erasure through the admin ---------------------------------------------------------------------


def test_the_admin_erase_action_shows_what_goes_then_erases_on_confirmation(manager):
    lead = person()
    client = logged_in(manager)
    chosen = {"action": "erase_personal_data", "_selected_action": [lead.pk]}

    page = client.post(reverse(CHANGELIST), chosen)

    assert page.status_code == 200
    content = page.content.decode()
    assert "cannot be undone" in content and "3 messages" in content and NAME in content
    assert Lead.objects.get(pk=lead.pk).erased_at is None

    done = client.post(reverse(CHANGELIST), {**chosen, "apply": "1", "reason": "Data principal request"})

    assert done.status_code == 302
    erased = Lead.objects.get(pk=lead.pk)
    assert erased.erased_at is not None and erased.name == ""
    assert ErasureRecord.objects.get().trigger == "admin"


def test_the_admin_erase_action_without_a_reason_erases_nothing(manager):
    lead = person()

    logged_in(manager).post(
        reverse(CHANGELIST),
        {"action": "erase_personal_data", "_selected_action": [lead.pk], "apply": "1", "reason": ""},
    )

    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_reps_and_managers_without_delete_permission_get_no_privacy_actions():
    lead = person()
    for user in (staff(*LEAD_PERMS), staff(*LEAD_PERMS, "view_all_leads")):
        lead.owner = user
        lead.save()
        client = logged_in(user)
        listing = client.get(reverse(CHANGELIST)).content.decode()
        assert "erase_personal_data" not in listing and "export_personal_data" not in listing
        client.post(
            reverse(CHANGELIST),
            {"action": "erase_personal_data", "_selected_action": [lead.pk], "apply": "1", "reason": "x"},
        )
        assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_a_lead_is_never_deleted_as_a_row_from_the_admin(manager):
    lead = person()

    logged_in(manager).post(reverse("admin:whatsapp_leads_lead_delete", args=[lead.pk]), {"post": "yes"})

    assert Lead.objects.filter(pk=lead.pk, erased_at__isnull=True).exists()


# --- erasure through the API -----------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_delete_on_the_api_erases_for_managers_and_answers_the_record(manager):
    lead = person()

    response = api(manager).delete(
        reverse("whatsapp_leads:lead-detail", args=[lead.pk]), {"reason": "request by email"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["lead_id_erased"] == lead.pk
    assert response.json()["reason"] == "request by email"
    assert response.json()["counts"]["whatsapp_leads.Message"] == 3
    assert Lead.objects.get(pk=lead.pk).erased_at is not None
    again = api(manager).delete(reverse("whatsapp_leads:lead-detail", args=[lead.pk]))
    assert again.status_code == 404


def test_delete_on_the_api_is_refused_to_a_rep_even_for_their_own_lead():
    rep = staff(*LEAD_PERMS, "delete_lead")
    lead = person()
    lead.owner = rep
    lead.save()

    response = api(rep).delete(reverse("whatsapp_leads:lead-detail", args=[lead.pk]))

    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_delete_on_the_api_of_another_reps_lead_is_a_404():
    rep = staff(*LEAD_PERMS, "delete_lead")
    lead = person()

    assert api(rep).delete(reverse("whatsapp_leads:lead-detail", args=[lead.pk])).status_code == 404
