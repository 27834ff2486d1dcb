"""The task body: a stored webhook becomes rows, every update of it, idempotently, with honest failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.factories import (
    AdFactory,
    CampaignFactory,
    CampaignMemberFactory,
    UserFactory,
    WebhookEventFactory,
)
from whatsapp_leads import models
from whatsapp_leads.adapter import LeadAdapter
from whatsapp_leads.models import Conversation, Lead, Message, StatusUpdate, WebhookEvent
from whatsapp_leads.providers.meta.simulation import (
    contact,
    dumps,
    envelope,
    inbound,
    messages_value,
    text_message,
)
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "payloads"
BATCHED = (PAYLOADS / "batched.json").read_bytes()
BROKEN_WA_ID = "919800000000"


class RefusingAdapter(LeadAdapter):
    """A host adapter with a bug for one user: the supported extension point, failing for real."""

    def populate_new_lead(self, lead, message) -> None:
        if message.contact.wa_id == BROKEN_WA_ID:
            raise RuntimeError("CRM lookup failed for this user")


@pytest.fixture
def refusing_adapter(settings):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "ADAPTER": f"{__name__}.RefusingAdapter",
        "MAX_ATTEMPTS": 3,
        "RETRY_BACKOFF_SECONDS": 30,
        "RETRY_BACKOFF_MAX_SECONDS": 3600,
    }


def fix_adapter(settings) -> None:
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "ADAPTER": "whatsapp_leads.adapter.LeadAdapter"}


def stored(body: bytes) -> WebhookEvent:
    return WebhookEventFactory(body=body)


def snapshot() -> dict[str, list[dict]]:
    """Every row the processing can write, field by field (timestamps included)."""
    tables = {
        "leads": models.Lead,
        "conversations": models.Conversation,
        "messages": models.Message,
        "statuses": models.StatusUpdate,
        "assignments": models.LeadAssignment,
        "ads": models.Ad,
        "campaigns": models.Campaign,
    }
    return {name: list(model._default_manager.order_by("pk").values()) for name, model in tables.items()}


def two_users_one_broken() -> bytes:
    return dumps(
        envelope(
            messages_value(
                [
                    text_message(wa_id="919876543210", message_id="wamid.GOODUSER", timestamp=1749416383),
                    text_message(wa_id=BROKEN_WA_ID, message_id="wamid.BROKENUSER", timestamp=1749416384),
                ],
                [contact(wa_id="919876543210", name="Asha Verma"), contact(wa_id=BROKEN_WA_ID, name="Dev")],
            )
        )
    )


# --- batches -----------------------------------------------------------------------------------


def test_batched_post_stores_every_message_and_every_status():
    event = stored(BATCHED)
    assert process_event(event.pk).status == "processed"
    event.refresh_from_db()
    assert event.update_count == 9

    payload = json.loads(BATCHED)
    wamids = {m["id"] for e in payload["entry"] for c in e["changes"] for m in c["value"].get("messages", [])}
    reports = {
        (s["id"], s["status"])
        for e in payload["entry"]
        for c in e["changes"]
        for s in c["value"].get("statuses", [])
    }
    assert set(Message.objects.values_list("wamid", flat=True)) == wamids
    assert set(StatusUpdate.objects.values_list("wamid", "status")) == reports
    # Statuses of messages we never stored are kept, waiting for them.
    assert not StatusUpdate.objects.filter(applied=True).exists()
    assert Lead.objects.count() == 2
    assert Conversation.objects.count() == 3  # Asha wrote to two of our numbers


def test_event_counts_its_attempt_and_records_when_it_finished():
    event = stored(BATCHED)
    process_event(event.pk)
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.attempts == 1
    assert event.processed_at is not None
    assert (event.error, event.traceback) == ("", "")


def test_processed_event_is_skipped_unless_forced():
    event = stored(BATCHED)
    process_event(event.pk)
    assert process_event(event.pk).status == "skipped"
    event.refresh_from_db()
    assert event.attempts == 1


def test_missing_event_is_skipped():
    assert process_event(987654321).status == "skipped"


# --- bodies that are not webhooks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"<html>not json</html>", "not valid JSON", id="not-json"),
        pytest.param(b"\xff\xfe\x00garbage", "not UTF-8", id="not-utf8"),
        pytest.param(
            b'["whatsapp_business_account"]', "payload should be a JSON object, got list", id="json-list"
        ),
        pytest.param(b"42", "payload should be a JSON object, got int", id="json-number"),
        pytest.param(
            b'{"object":"instagram","entry":[]}',
            "object is 'instagram', expected 'whatsapp_business_account'",
            id="wrong-object",
        ),
        pytest.param(
            b'{"object":"whatsapp_business_account","entry":{}}',
            "entry should be a list",
            id="entry-not-list",
        ),
    ],
)
def test_body_that_is_not_a_webhook_fails_with_its_reason_and_is_not_retried(body, reason):
    event = stored(body)
    outcome = process_event(event.pk)
    event.refresh_from_db()
    assert (outcome.status, outcome.retry_in) == ("failed", None)
    assert event.status == WebhookEvent.Status.FAILED
    assert reason in event.error
    assert event.traceback == ""


def test_unreadable_parts_fail_the_event_without_losing_the_readable_ones():
    broken = text_message(timestamp=1749416384)
    del broken["id"]
    body = dumps(envelope(messages_value([text_message(message_id="wamid.READABLE"), broken], [contact()])))
    event = stored(body)

    outcome = process_event(event.pk)

    event.refresh_from_db()
    assert (outcome.status, outcome.retry_in) == ("failed", None)  # the same body will never parse
    assert "entry[0].changes[0].value.messages[1]" in event.error
    assert Message.objects.get().wamid == "wamid.READABLE"


# --- idempotency -------------------------------------------------------------------------------


def test_same_payload_delivered_three_times_leaves_exactly_the_rows_of_one_delivery():
    campaign = CampaignFactory()
    CampaignMemberFactory(campaign=campaign)
    CampaignMemberFactory(campaign=campaign)
    AdFactory(meta_id="120226305854810726", campaign=campaign)

    first = stored(BATCHED)
    assert process_event(first.pk).status == "processed"
    once = snapshot()
    assert once["leads"] and once["messages"] and once["statuses"] and once["assignments"]

    for _ in range(2):  # Meta's retries and multi-app fan-out: new webhook rows, same bytes
        again = stored(BATCHED)
        assert process_event(again.pk).status == "processed"

    assert WebhookEvent.objects.count() == 3
    assert snapshot() == once


def test_forced_reprocessing_of_a_processed_event_changes_nothing():
    event = stored(dumps(inbound(ad_id="120226305854810726")))
    process_event(event.pk)
    before = snapshot()

    assert process_event(event.pk, force=True).status == "processed"

    assert snapshot() == before
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.attempts == 2


# --- failures ----------------------------------------------------------------------------------


def test_failing_update_fails_the_event_with_error_and_traceback_and_keeps_its_neighbours(refusing_adapter):
    event = stored(two_users_one_broken())

    outcome = process_event(event.pk)

    event.refresh_from_db()
    assert outcome.status == "failed"
    assert event.status == WebhookEvent.Status.FAILED
    assert "RuntimeError: CRM lookup failed for this user" in event.error
    assert "populate_new_lead" in event.traceback
    assert event.attempts == 1
    # The other user's message was committed in its own transaction.
    assert list(Lead.objects.values_list("wa_id", flat=True)) == ["919876543210"]
    assert list(Message.objects.values_list("wamid", flat=True)) == ["wamid.GOODUSER"]


def test_failing_event_is_retried_with_growing_backoff_until_attempts_run_out(refusing_adapter, settings):
    event = stored(two_users_one_broken())
    outcomes = [process_event(event.pk) for _ in range(3)]  # MAX_ATTEMPTS = 3
    assert [o.retry_in for o in outcomes] == [30, 60, None]
    event.refresh_from_db()
    assert event.attempts == 3


def test_backoff_never_exceeds_its_maximum(refusing_adapter, settings):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "MAX_ATTEMPTS": 10,
        "RETRY_BACKOFF_MAX_SECONDS": 100,
    }
    event = stored(two_users_one_broken())
    assert [process_event(event.pk).retry_in for _ in range(4)] == [30, 60, 100, 100]


@pytest.mark.parametrize("force", [False, True], ids=["retry", "forced"])
def test_failed_event_is_processed_once_the_fault_is_fixed(refusing_adapter, settings, force):
    event = stored(two_users_one_broken())
    process_event(event.pk)
    fix_adapter(settings)

    outcome = process_event(event.pk, force=force)

    event.refresh_from_db()
    assert (outcome.status, outcome.retry_in) == ("processed", None)
    assert (event.status, event.error, event.traceback) == (WebhookEvent.Status.PROCESSED, "", "")
    assert event.attempts == 2
    assert set(Lead.objects.values_list("wa_id", flat=True)) == {"919876543210", BROKEN_WA_ID}
    assert Message.objects.count() == 2


def test_exhausted_event_is_still_processed_when_run_by_hand(refusing_adapter, settings):
    event = stored(two_users_one_broken())
    for _ in range(3):
        process_event(event.pk)
    fix_adapter(settings)
    assert process_event(event.pk).status == "processed"


def test_retry_of_a_partly_failed_event_does_not_duplicate_what_succeeded(refusing_adapter, settings):
    owner = UserFactory(username="sales-desk")
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DEFAULT_OWNER": "sales-desk"}
    event = stored(two_users_one_broken())
    process_event(event.pk)
    fix_adapter(settings)
    process_event(event.pk)

    good = Lead.objects.get(wa_id="919876543210")
    assert good.assignments.count() == 1
    assert good.owner == owner
    assert Message.objects.filter(wamid="wamid.GOODUSER").count() == 1
    assert Conversation.objects.get(lead=good).message_count == 1


@pytest.mark.django_db
def test_a_nul_character_in_a_message_is_replaced_so_the_message_is_stored(post_webhook):
    """PostgreSQL refuses NUL in text and jsonb; the message must still land, readable."""
    post_webhook(inbound(text="before\x00after"))
    event = WebhookEvent.objects.get()
    assert process_event(event.pk).status == "processed"
    message = Message.objects.get()
    assert message.text == "before\ufffdafter"
    assert message.payload["text"]["body"] == "before\ufffdafter"
