"""Issue 3: one person stays one lead while their number, business-scoped id and name change."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tests.support.delivery import deliver as process_ok
from tests.support.kinds_support import USER_BSUID, USER_WA_ID, load, message, value
from whatsapp_leads.models import AccountEvent, Lead, LeadHistory, Message
from whatsapp_leads.providers.meta.simulation import contact, envelope, messages_value, text_message
from whatsapp_leads.signals import lead_merged

pytestmark = pytest.mark.django_db

NEW_WA_ID = "16505559999"
NEW_BSUID = "US.13491208655302741919"
CHANGE_AT = 1749416383  # the fixtures' timestamp


def text_from(*, wa_id: str = "", user_id: str = "", name: str = "Sheena Nelson", at: int, body: str = "Hi"):
    """A text message as Meta sends it: ``from`` and/or ``from_user_id``, with the contacts profile."""
    msg = text_message(wa_id=wa_id, user_id=user_id or None, text=body, timestamp=at)
    return envelope(messages_value([msg], [contact(wa_id=wa_id, name=name, user_id=user_id or None)]))


def history(lead: Lead, kind: str) -> list[tuple[str, str]]:
    return list(lead.history.filter(kind=kind).order_by("id").values_list("previous", "current"))


# --- business-scoped user ids ----------------------------------------------------------------------


def test_username_only_user_becomes_a_lead_keyed_by_user_id():
    process_ok(load("bsuid_username_only"))

    lead = Lead.objects.get()
    assert (lead.user_id, lead.wa_id, lead.phone) == (USER_BSUID, None, "")
    assert lead.username == "sheena.builds"
    assert lead.conversations.get().messages.get().text == "Hello from my username"


def test_lead_first_seen_by_phone_stays_one_lead_when_user_id_appears():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 300))
    process_ok(text_from(wa_id=USER_WA_ID, user_id=USER_BSUID, at=CHANGE_AT - 200))
    process_ok(load("bsuid_username_only"))  # later: only the user id, no phone

    lead = Lead.objects.get()
    assert (lead.wa_id, lead.user_id, lead.phone) == (USER_WA_ID, USER_BSUID, "+16505551234")
    assert Message.objects.filter(conversation__lead=lead).count() == 3


def test_lead_first_seen_by_user_id_stays_one_lead_when_phone_appears():
    process_ok(text_from(user_id=USER_BSUID, at=CHANGE_AT - 300))
    process_ok(text_from(wa_id=USER_WA_ID, user_id=USER_BSUID, at=CHANGE_AT - 200))

    lead = Lead.objects.get()
    assert (lead.wa_id, lead.user_id, lead.phone) == (USER_WA_ID, USER_BSUID, "+16505551234")


def test_two_leads_revealed_as_one_person_are_merged_into_the_older(django_capture_on_commit_callbacks):
    process_ok(text_from(user_id=USER_BSUID, at=CHANGE_AT - 300, body="from my username"))
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 200, body="from my phone"))
    older = Lead.objects.get(user_id=USER_BSUID)
    younger = Lead.objects.get(wa_id=USER_WA_ID)
    merged: list = []
    lead_merged.connect(lambda sender, **kw: merged.append(kw), weak=False, dispatch_uid="test-merge")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            process_ok(text_from(wa_id=USER_WA_ID, user_id=USER_BSUID, at=CHANGE_AT - 100, body="both"))
    finally:
        lead_merged.disconnect(dispatch_uid="test-merge")

    lead = Lead.objects.get()
    assert lead.pk == older.pk
    assert (lead.wa_id, lead.user_id) == (USER_WA_ID, USER_BSUID)
    conversation = lead.conversations.get()
    assert sorted(conversation.messages.values_list("text", flat=True)) == [
        "both",
        "from my phone",
        "from my username",
    ]
    assert (conversation.message_count, conversation.inbound_count) == (3, 3)
    assert lead.history.get(kind=LeadHistory.Kind.MERGED).previous.startswith(f"Lead #{younger.pk}")
    assert merged == [{"lead": lead, "merged_lead_id": younger.pk, "signal": lead_merged}]


# --- number changes -----------------------------------------------------------------------------------


def test_an_identity_another_lead_took_after_the_lookup_is_refused_so_the_caller_looks_again():
    # What a racing worker leaves behind: it committed a lead by the user id after this worker's
    # lookup found only the lead by number. Quietly skipping the id would keep one person as two
    # leads; refusing it makes get_or_create_lead's retry find both and merge them.
    from whatsapp_leads.parsing import Contact
    from whatsapp_leads.services.identity import IdentityTaken, refresh_identity

    by_number = Lead.objects.create(wa_id=USER_WA_ID, phone=f"+{USER_WA_ID}")
    Lead.objects.create(user_id=USER_BSUID)
    seen = Contact(wa_id=USER_WA_ID, user_id=USER_BSUID, name="Sheena Nelson")

    with pytest.raises(IdentityTaken, match=f"user id {USER_BSUID}"):
        refresh_identity(by_number, seen, at=datetime.now(tz=UTC))


def test_changed_number_moves_the_lead_to_the_new_number_with_its_history():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 60))
    payload = load("system_user_changed_number")
    process_ok(payload)

    lead = Lead.objects.get()
    assert (lead.wa_id, lead.phone) == (NEW_WA_ID, "+16505559999")
    assert history(lead, "wa_id") == [(USER_WA_ID, NEW_WA_ID)]
    assert history(lead, "phone") == [("+16505551234", "+16505559999")]
    assert lead.history.get(kind="wa_id").occurred_at == datetime.fromtimestamp(CHANGE_AT, tz=UTC)
    system = Message.objects.get(wamid=message(payload)["id"])
    assert system.conversation.lead == lead
    assert system.text == f"[System] User Sheena Nelson changed from {USER_WA_ID} to {NEW_WA_ID}"


def test_messages_from_the_new_number_reach_the_same_lead():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 60))
    process_ok(load("system_user_changed_number"))
    process_ok(text_from(wa_id=NEW_WA_ID, at=CHANGE_AT + 60, body="new phone, same me"))

    lead = Lead.objects.get()
    assert Message.objects.filter(conversation__lead=lead).count() == 3


def test_older_docs_new_wa_id_spelling_is_accepted():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 60))
    payload = load("system_user_changed_number")
    system = message(payload)["system"]
    system["new_wa_id"] = system.pop("wa_id")
    process_ok(payload)

    assert Lead.objects.get().wa_id == NEW_WA_ID


def test_number_change_merges_a_lead_that_already_wrote_from_the_new_number():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 120, body="old phone"))
    process_ok(text_from(wa_id=NEW_WA_ID, at=CHANGE_AT - 60, body="new phone, before the notice"))
    old_lead = Lead.objects.get(wa_id=USER_WA_ID)
    process_ok(load("system_user_changed_number"))

    lead = Lead.objects.get()
    assert lead.pk == old_lead.pk
    assert lead.wa_id == NEW_WA_ID
    texts = set(Message.objects.filter(conversation__lead=lead).values_list("text", flat=True))
    assert {"old phone", "new phone, before the notice"} <= texts
    assert lead.history.filter(kind="merged").count() == 1


def test_redelivered_number_change_changes_nothing_more():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 60))
    payload = load("system_user_changed_number")
    process_ok(payload)
    process_ok(copy.deepcopy(payload))

    lead = Lead.objects.get()
    assert history(lead, "wa_id") == [(USER_WA_ID, NEW_WA_ID)]
    assert Message.objects.count() == 2


def test_late_message_sent_from_the_old_number_before_the_change_finds_the_moved_lead():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 600))
    process_ok(load("system_user_changed_number"))
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 300, body="delayed in transit"))

    lead = Lead.objects.get()
    assert lead.wa_id == NEW_WA_ID  # the late message does not move it back
    assert Message.objects.get(text="delayed in transit").conversation.lead == lead


def test_old_number_writing_after_the_change_is_someone_new():
    process_ok(text_from(wa_id=USER_WA_ID, at=CHANGE_AT - 600))
    process_ok(load("system_user_changed_number"))
    process_ok(text_from(wa_id=USER_WA_ID, name="Somebody Else", at=CHANGE_AT + 86400))

    assert Lead.objects.count() == 2
    assert Lead.objects.get(wa_id=USER_WA_ID).name == "Somebody Else"


# --- user id changes ---------------------------------------------------------------------------------------


def test_changed_user_id_moves_the_lead_to_the_new_id():
    process_ok(text_from(user_id=USER_BSUID, wa_id=USER_WA_ID, at=CHANGE_AT - 60))
    process_ok(load("system_user_changed_user_id"))

    lead = Lead.objects.get()
    assert (lead.user_id, lead.wa_id) == (NEW_BSUID, USER_WA_ID)
    assert history(lead, "user_id") == [(USER_BSUID, NEW_BSUID)]


def test_changed_user_id_without_previous_user_id_uses_the_sender_id():
    process_ok(text_from(user_id=USER_BSUID, at=CHANGE_AT - 60))
    payload = load("system_user_changed_user_id")
    raw = message(payload)
    raw.pop("from")
    raw["from_user_id"] = USER_BSUID
    raw["system"].pop("previous_user_id")
    process_ok(payload)

    lead = Lead.objects.get()
    assert lead.user_id == NEW_BSUID
    assert lead.conversations.get().messages.count() == 2


def test_user_id_update_field_moves_the_lead():
    process_ok(text_from(user_id=USER_BSUID, wa_id=USER_WA_ID, at=CHANGE_AT - 60))
    process_ok(load("user_id_update"))

    lead = Lead.objects.get()
    assert lead.user_id == NEW_BSUID
    change = lead.history.get(kind="user_id")
    assert (change.previous, change.detail) == (USER_BSUID, "User's business-scoped user id changed")


def test_user_id_update_as_a_list_is_accepted():
    process_ok(text_from(user_id=USER_BSUID, at=CHANGE_AT - 60))
    payload = load("user_id_update")
    item = {k: v for k, v in value(payload).items() if k not in ("messaging_product", "metadata")}
    payload["entry"][0]["changes"][0]["value"] = {"messaging_product": "whatsapp", "user_id_update": [item]}
    process_ok(payload)

    assert Lead.objects.get().user_id == NEW_BSUID


def test_user_id_update_for_someone_without_a_lead_is_kept_as_an_account_event():
    process_ok(load("user_id_update"))

    assert not Lead.objects.exists()
    row = AccountEvent.objects.get()
    assert row.field == "user_id_update"
    assert USER_BSUID in row.summary and NEW_BSUID in row.summary


# --- profile names --------------------------------------------------------------------------------------------


def test_profile_name_change_updates_the_lead_and_keeps_the_previous_name():
    process_ok(text_from(wa_id=USER_WA_ID, name="Sheena", at=CHANGE_AT - 60))
    process_ok(text_from(wa_id=USER_WA_ID, name="Sheena Nelson", at=CHANGE_AT))

    lead = Lead.objects.get()
    assert lead.name == "Sheena Nelson"
    assert history(lead, "name") == [("Sheena", "Sheena Nelson")]


def test_a_late_message_with_the_old_name_does_not_undo_the_change():
    process_ok(text_from(wa_id=USER_WA_ID, name="Sheena Nelson", at=CHANGE_AT))
    process_ok(text_from(wa_id=USER_WA_ID, name="Sheena", at=CHANGE_AT - 60))

    lead = Lead.objects.get()
    assert lead.name == "Sheena Nelson"
    assert not lead.history.filter(kind="name").exists()
