"""DPDP erasure: a lead made through every path that stores a person's data, erased, then searched for.

The person writes from an ad (in a body batched with another person's message), sends a photo
that is downloaded, fills a WhatsApp Flow form, changes profile name, number and business-scoped
id, stops marketing twice (Meta's user_preferences and a STOP message), is sent a message whose
statuses come back (one before its message is known), is assigned and re-assigned, and is quoted
by another lead. After ``erase_lead`` no table, no raw webhook body and no stored file holds their
number, ids, name or words; the campaign's numbers are the same; re-processing every stored event
brings nothing back; the other person's data is intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
import responses
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tests.support.delivery import deliver
from tests.support.factories import MessageFactory, UserFactory
from tests.support.people import logged_in
from tests.support.privacy import files_under, found_in_files, found_in_tables
from tests.support.world import AD_ID, T0, campaign_with_team
from whatsapp_leads.models import ErasureRecord, Lead, LeadNote, Message, StatusUpdate, WebhookEvent
from whatsapp_leads.providers.meta.simulation import (
    contact,
    envelope,
    messages_value,
    referral,
    status,
    statuses_value,
    text_message,
)
from whatsapp_leads.providers.registry import get_provider
from whatsapp_leads.services import assignment, lead_status
from whatsapp_leads.services.campaign_stats import campaign_numbers
from whatsapp_leads.services.media import download_media
from whatsapp_leads.services.privacy import AlreadyErased, erase_lead
from whatsapp_leads.services.privacy.erasure import KEPT
from whatsapp_leads.services.privacy.walk import lead_paths
from whatsapp_leads.services.processing import process_event
from whatsapp_leads.signals import lead_erased

pytestmark = pytest.mark.django_db

PERSON, NEW_NUMBER = "919812345678", "919812399999"
BSUID, NEW_BSUID = "IN.5566778899001122", "IN.5566778899001199"
NAME, NEW_NAME = "Kavita Rajan", "Kavita Deshpande"
EMAIL, CITY = "kavita.rajan@example.com", "Nashikwadi"
CLID = "ARclidKavitaRajan0123456789abcdefXYZ"
OTHER, OTHER_NAME = "919800011122", "Rohit Mehta"
MEDIA_ID = "881122334455667"
PHOTO = b"\xff\xd8\xff\xe0 scanned PAN card of the applicant \xff\xd9"
OUT_WAMID = "wamid.OUTBOUNDkavitaOFFER000000000001"
ORPHAN_WAMID = "wamid.OUTBOUNDkavitaNEVERSTORED000002"
WORDS = ("flat in Baner near the station", "my PAN card, front side", "your loan offer of 42 lakh")
GRAPH = "https://graph.test"
LEAD_FORM = {"lead_form": {"email": "email", "full_name": "name", "city": "city", "budget": "budget_band"}}
NOW = datetime(2025, 6, 9, 12, 0, tzinfo=UTC)


def at(minutes: int) -> int:
    return T0 + minutes * 60


def msg_id(n: int) -> str:
    return f"wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhgUKAVITA{n:06d}"


def person_says(n: int, extra: dict, *, wa_id: str = PERSON, name: str = NAME, user_id: str = BSUID) -> dict:
    raw = {"id": msg_id(n), "timestamp": str(at(n)), "from": wa_id, "from_user_id": user_id, **extra}
    return envelope(messages_value([raw], [contact(wa_id=wa_id, name=name, user_id=user_id)]))


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "ACCESS_TOKEN": "test-token",
        "META_GRAPH_URL": GRAPH,
        "META_GRAPH_VERSION": "v25.0",
        "FLOW_FIELD_MAP": LEAD_FORM,
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        yield graph


def build_person(graph, campaign) -> Lead:
    """The person, through every path that stores their data."""
    # 1. The ad click, batched with another person's first message.
    ad_message = text_message(
        wa_id=PERSON,
        user_id=BSUID,
        text=WORDS[0],
        message_id=msg_id(1),
        timestamp=at(1),
        referral_=referral(AD_ID, ctwa_clid=CLID),
    )
    other_message = text_message(wa_id=OTHER, text="Is the Kharadi project ready?", timestamp=at(1))
    deliver(
        envelope(
            messages_value(
                [ad_message, other_message],
                [contact(wa_id=PERSON, name=NAME, user_id=BSUID), contact(wa_id=OTHER, name=OTHER_NAME)],
            )
        )
    )
    lead = Lead.objects.get(wa_id=PERSON)
    # 2. A photo, downloaded into the private storage.
    sha = base64.b64encode(hashlib.sha256(PHOTO).digest()).decode()
    image = {"id": MEDIA_ID, "mime_type": "image/jpeg", "sha256": sha, "caption": WORDS[1]}
    deliver(person_says(2, {"type": "image", "image": image}))
    file_url = f"https://lookaside.test/?mid={MEDIA_ID}"
    graph.get(
        f"{GRAPH}/v25.0/{MEDIA_ID}",
        json={
            "url": file_url,
            "mime_type": "image/jpeg",
            "sha256": sha,
            "file_size": len(PHOTO),
            "id": MEDIA_ID,
        },
    )
    graph.get(file_url, body=PHOTO, content_type="image/jpeg")
    assert download_media(Message.objects.get(wamid=msg_id(2)).pk).status == "downloaded"
    # 3. A WhatsApp Flow form.
    answers = {
        "flow_token": "lead_form:77",
        "full_name": NAME,
        "email": EMAIL,
        "city": CITY,
        "budget": "1Cr+",
    }
    nfm = {
        "type": "nfm_reply",
        "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(answers)},
    }
    deliver(person_says(3, {"type": "interactive", "interactive": nfm}))
    # 4. A message we sent, its statuses, and a status for a message we never stored.
    MessageFactory(
        conversation=lead.conversations.get(),
        direction=Message.Direction.OUTBOUND,
        wamid=OUT_WAMID,
        text=WORDS[2],
        status=Message.Status.PENDING,
    )
    deliver(
        envelope(
            statuses_value(
                [
                    status(OUT_WAMID, "sent", timestamp=at(4), recipient=PERSON),
                    status(OUT_WAMID, "delivered", timestamp=at(5), recipient=PERSON),
                    status(ORPHAN_WAMID, "delivered", timestamp=at(5), recipient=PERSON),
                ]
            )
        )
    )
    # 5. Marketing stopped through Meta's user_preferences, then a STOP and a START message.
    pref = {
        "wa_id": PERSON,
        "detail": "User requested to stop marketing messages",
        "category": "marketing_messages",
        "value": "stop",
        "timestamp": at(6),
    }
    value = {**messages_value([], [contact(wa_id=PERSON, name=NAME)]), "user_preferences": [pref]}
    value.pop("messages")
    deliver(envelope(value, field="user_preferences"))
    deliver(person_says(7, {"type": "text", "text": {"body": "START"}}))
    deliver(person_says(8, {"type": "text", "text": {"body": "Stop"}}))
    # 6. A new profile name, then a new number, then a new business-scoped id.
    deliver(person_says(9, {"type": "text", "text": {"body": "ok"}}, name=NEW_NAME))
    system = {
        "body": f"User {NEW_NAME} changed from {PERSON} to {NEW_NUMBER}",
        "wa_id": NEW_NUMBER,
        "type": "user_changed_number",
    }
    deliver(person_says(10, {"type": "system", "system": system}, name=NEW_NAME))
    deliver(
        person_says(11, {"type": "text", "text": {"body": "new number"}}, wa_id=NEW_NUMBER, name=NEW_NAME)
    )
    update = {
        **messages_value([]),
        "wa_id": NEW_NUMBER,
        "detail": "User's business-scoped user id changed",
        "user_id": {"previous": BSUID, "current": NEW_BSUID},
        "timestamp": str(at(12)),
    }
    update.pop("messages")
    deliver(envelope(update, field="user_id_update"))
    # 7. Re-assigned by a manager, closed as won, noted in the admin log.
    lead = Lead.objects.get(pk=lead.pk)
    manager = UserFactory(username="manager")
    assignment.reassign(lead, owner=campaign.members.last().user, by=manager)
    # 7a. The workspace: a rep's note and follow-up naming them, and the status history of the win.
    LeadNote.objects.create(lead=lead, author=manager, text=f"{NEW_NAME} wants a call on {NEW_NUMBER}")
    Lead.objects.filter(pk=lead.pk).update(
        follow_up_at=datetime(2025, 6, 10, 10, tzinfo=UTC), follow_up_note=f"Call {NEW_NAME} back"
    )
    lead_status.change_status(Lead.objects.get(pk=lead.pk), status=Lead.Status.WON, by=manager)
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.WON)
    LogEntry.objects.create(
        user=manager,
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=str(lead.pk),
        object_repr=NEW_NAME,
        action_flag=CHANGE,
        change_message=f"Called {NEW_NAME} on {NEW_NUMBER}",
    )
    # 8. Another lead quoting the person's number.
    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=OTHER, text=f"My sister {NAME} is on {PERSON}", timestamp=at(13))],
                [contact(wa_id=OTHER, name=OTHER_NAME)],
            )
        )
    )
    return Lead.objects.get(pk=lead.pk)


def needles() -> list[str]:
    return [
        PERSON,
        NEW_NUMBER,
        BSUID,
        NEW_BSUID,
        NAME,
        NEW_NAME,
        "Kavita",
        EMAIL,
        CITY,
        CLID,
        MEDIA_ID,
        OUT_WAMID,
        ORPHAN_WAMID,
        *WORDS,
        *(msg_id(n) for n in range(1, 13)),
    ]


def test_an_erased_person_is_found_in_no_table_no_body_and_no_file(
    world, tmp_path, django_capture_on_commit_callbacks
):
    campaign = campaign_with_team()
    lead = build_person(world, campaign)
    # The world really holds the person everywhere the test then looks.
    assert lead.wa_id == NEW_NUMBER and lead.user_id == NEW_BSUID and lead.name == NEW_NAME
    assert lead.email == EMAIL and lead.marketing_opt_out and lead.campaign == campaign
    assert lead.history.count() >= 6 and lead.assignments.count() == 2
    assert StatusUpdate.objects.filter(wamid=ORPHAN_WAMID, message__isnull=True).exists()
    assert len(files_under(tmp_path)) == 1
    assert set(found_in_tables(needles())) and found_in_files(tmp_path, ["PAN card"])
    other_messages = Message.objects.filter(conversation__lead__wa_id=OTHER).count()
    before = campaign_numbers(campaign, now=NOW)
    events = WebhookEvent.objects.count()
    announced = []
    lead_erased.connect(lambda **kw: announced.append(kw["lead"].pk), weak=False, dispatch_uid="t-erased")

    with django_capture_on_commit_callbacks(execute=True):
        record = erase_lead(lead, "Data principal request of 9 June", UserFactory(username="dpo"))

    lead_erased.disconnect(dispatch_uid="t-erased")
    hits = found_in_tables(needles())
    assert hits == [], hits
    assert files_under(tmp_path) == []  # deleted from storage, not orphaned
    assert campaign_numbers(campaign, now=NOW) == before
    assert announced == [lead.pk]
    erased = Lead.objects.get(pk=lead.pk)
    assert (erased.wa_id, erased.user_id, erased.status, erased.campaign_id) == (
        None,
        None,
        "won",
        campaign.pk,
    )
    assert erased.owner_id is not None and erased.erased_at is not None
    assert record.counts["whatsapp_leads.Message"] == 9 and record.counts["files"] == 1
    assert record.counts["webhook bodies dropped"] >= 8 and record.counts["webhook bodies rewritten"] == 2
    for path in lead_paths():  # every model on a path to the lead, whichever change added it
        assert path.model in KEPT or not path.rows(erased).exists(), path.label
    assert WebhookEvent.objects.count() == events  # rows and outcomes stay
    assert Message.objects.filter(conversation__lead__wa_id=OTHER).count() == other_messages
    assert "[erased]" in Message.objects.get(text__startswith="My sister").text

    for pk in WebhookEvent.objects.values_list("pk", flat=True):
        process_event(pk, force=True)

    assert found_in_tables(needles()) == []
    assert Lead.objects.filter(erased_at__isnull=True).count() == 1  # the other person only
    assert campaign_numbers(campaign, now=NOW) == before


def test_a_batched_body_keeps_the_other_persons_message_and_is_marked_redacted(world):
    campaign_with_team()
    build_person(world, campaign_with_team("Plots", ad_id="999"))
    lead = Lead.objects.get(wa_id=NEW_NUMBER)
    first = WebhookEvent.objects.order_by("pk").first()

    erase_lead(lead, "consent withdrawn")

    first.refresh_from_db()
    assert first.redacted_at is not None and first.body_dropped_at is None
    updates = get_provider("meta").parse(first.body_bytes, headers={})
    assert [(u.contact.wa_id, u.contact.name) for u in updates] == [(OTHER, OTHER_NAME)]


def test_a_body_only_about_the_person_is_dropped_and_never_processed_again(world):
    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=PERSON, text=WORDS[0], timestamp=at(1))],
                [contact(wa_id=PERSON, name=NAME)],
            )
        )
    )
    event = WebhookEvent.objects.get()

    erase_lead(Lead.objects.get(), "data principal request")

    event.refresh_from_db()
    assert (event.body_bytes, event.status) == (b"", WebhookEvent.Status.PROCESSED)
    assert event.body_dropped_at is not None
    assert process_event(event.pk, force=True).status == "skipped"
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert WebhookEvent.objects.requeue() == 0


def test_a_person_writing_again_after_erasure_becomes_a_new_lead(world):
    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=PERSON, text="hello", timestamp=at(1))],
                [contact(wa_id=PERSON, name=NAME)],
            )
        )
    )
    old = Lead.objects.get()
    erase_lead(old, "data principal request")

    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=PERSON, text="hello again", timestamp=at(60))],
                [contact(wa_id=PERSON, name=NAME)],
            )
        )
    )

    new = Lead.objects.get(wa_id=PERSON)
    assert new.pk != old.pk
    assert new.first_message == "hello again" and new.history.count() == 0
    assert Lead.objects.get(pk=old.pk).erased_at is not None
    assert Message.objects.filter(conversation__lead=old).count() == 0


def test_an_erased_lead_cannot_be_erased_twice_and_an_erasure_needs_a_reason(world):
    deliver(envelope(messages_value([text_message(wa_id=PERSON, timestamp=at(1))], [contact(wa_id=PERSON)])))
    lead = Lead.objects.get()
    with pytest.raises(ValueError, match="reason"):
        erase_lead(lead, "  ")
    erase_lead(lead, "request")

    with pytest.raises(AlreadyErased):
        erase_lead(lead, "request")
    assert ErasureRecord.objects.count() == 1


def test_the_erasure_record_names_who_why_and_counts_without_personal_data(world):
    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=PERSON, text=WORDS[0], timestamp=at(1))],
                [contact(wa_id=PERSON, name=NAME)],
            )
        )
    )
    lead = Lead.objects.get()
    dpo = UserFactory(username="dpo")

    record = erase_lead(lead, "Data principal request #17", dpo)

    assert (record.erased_by, record.erased_by_label, record.lead_id_erased) == (dpo, "dpo", lead.pk)
    assert record.reason == "Data principal request #17"
    assert record.counts["whatsapp_leads.Message"] == 1
    assert record.counts["whatsapp_leads.Conversation"] == 1
    assert not any(n in json.dumps(record.counts) for n in (PERSON, NAME))


def test_failure_reasons_quoting_the_person_lose_their_ids(world):
    deliver(envelope(messages_value([text_message(wa_id=PERSON, timestamp=at(1))], [contact(wa_id=PERSON)])))
    failed = WebhookEvent.objects.create(
        body=b"{}", status=WebhookEvent.Status.FAILED, error=f"update 0: WhatsApp id '{PERSON}' is too long"
    )

    erase_lead(Lead.objects.get(), "request")

    failed.refresh_from_db()
    assert failed.error == "update 0: WhatsApp id '[erased]' is too long"


def test_a_stranger_with_the_same_name_keeps_their_lead_and_their_body(world):
    deliver(
        envelope(
            messages_value([text_message(wa_id=PERSON, timestamp=at(1))], [contact(wa_id=PERSON, name=NAME)])
        )
    )
    deliver(
        envelope(
            messages_value(
                [text_message(wa_id=OTHER, text=f"I am {NAME} too", timestamp=at(2))],
                [contact(wa_id=OTHER, name=NAME)],
            )
        )
    )
    stranger_body = WebhookEvent.objects.order_by("pk").last().body_bytes

    erase_lead(Lead.objects.get(wa_id=PERSON), "request")

    stranger = Lead.objects.get(wa_id=OTHER)
    assert stranger.name == NAME
    assert Message.objects.get(conversation__lead=stranger).text == f"I am {NAME} too"
    assert WebhookEvent.objects.order_by("pk").last().body_bytes == stranger_body


def test_the_erasure_audit_is_read_only_in_the_admin(world):
    deliver(envelope(messages_value([text_message(wa_id=PERSON, timestamp=at(1))], [contact(wa_id=PERSON)])))
    record = erase_lead(Lead.objects.get(), "request")
    client = logged_in(UserFactory(is_superuser=True))

    page = client.get(reverse("admin:whatsapp_leads_erasurerecord_change", args=[record.pk]))

    assert page.status_code == 200 and "request" in page.content.decode()
    assert (
        client.post(
            reverse("admin:whatsapp_leads_erasurerecord_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert ErasureRecord.objects.filter(pk=record.pk).exists()
