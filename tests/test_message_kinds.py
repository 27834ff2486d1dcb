"""Issue 3: every kind of Cloud API update is stored where a person would look for it.

Each test processes a real-shaped fixture from tests/payloads/kinds/ and asserts what is stored:
the raw object, the readable line, and the kind's own facts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.delivery import deliver as process_ok
from tests.support.delivery import process
from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory
from tests.support.kinds_support import OUR_WAMID, USER_WA_ID, load, message, variant
from tests.support.world import AD_ID
from whatsapp_leads.models import AccountEvent, Lead, Message, StatusUpdate, WebhookEvent
from whatsapp_leads.parsing import Business
from whatsapp_leads.providers.meta.simulation import PHONE_NUMBER_ID
from whatsapp_leads.services.conversations import record_outbound
from whatsapp_leads.services.processing import process_event
from whatsapp_leads.signals import account_event_received

pytestmark = pytest.mark.django_db


def stored(payload: dict, index: int = 0) -> Message:
    return Message.objects.get(wamid=message(payload, index)["id"])


def users_lead() -> Lead:
    """The fixtures' sender as a lead we already know, before any of their messages arrived."""
    return LeadFactory(
        wa_id=USER_WA_ID, phone=f"+{USER_WA_ID}", name="", first_message_at=None, last_message_at=None
    )


def our_message(**fields) -> Message:
    """The outbound message the fixtures reply and react to, in the fixtures' sender's thread."""
    fields.setdefault("status", "sent")
    fields.setdefault("conversation", ConversationFactory(lead=users_lead(), phone_number_id=PHONE_NUMBER_ID))
    return MessageFactory(wamid=OUR_WAMID, direction=Message.Direction.OUTBOUND, **fields)


# --- text and context ---------------------------------------------------------------------------


def test_text_from_an_ad_opens_a_lead_with_its_referral_and_keeps_the_raw_message():
    payload = load("text")
    process_ok(payload)

    row = stored(payload)
    assert row.type == "text"
    assert row.text == "Hi, is the 2BHK in Baner still available?"
    assert row.payload == message(payload)
    assert row.referral["source_id"] == AD_ID
    lead = row.conversation.lead
    assert (lead.wa_id, lead.name, lead.source_ad_id) == (USER_WA_ID, "Sheena Nelson", AD_ID)


def test_reply_points_at_the_message_it_answers():
    ours = our_message()
    payload = load("text_reply")
    process_ok(payload)

    row = stored(payload)
    assert row.reply_to == ours
    assert row.reply_to_wamid == OUR_WAMID


def test_reply_naming_another_leads_message_links_nothing():
    someone_else = MessageFactory(wamid=OUR_WAMID, text="Someone else's private words")
    payload = load("text_reply")
    process_ok(payload)

    row = stored(payload)
    assert row.conversation.lead != someone_else.conversation.lead
    assert row.reply_to is None
    assert row.reply_to_wamid == OUR_WAMID  # kept as sent, only never followed across leads


def test_reaction_naming_another_leads_message_links_nothing():
    MessageFactory(wamid=OUR_WAMID, direction=Message.Direction.OUTBOUND, status="sent")
    process_ok(load("reaction"))

    assert Message.objects.get(type="reaction").reply_to is None


def test_another_leads_reply_that_arrived_first_is_not_linked_to_my_message():
    payload = load("text_reply")
    process_ok(payload)  # the fixtures' sender quotes OUR_WAMID before we stored it
    mine = LeadFactory()
    record_outbound(
        mine,
        wamid=OUR_WAMID,
        text="For another lead",
        business=Business(phone_number_id=PHONE_NUMBER_ID),
        timestamp=datetime.fromtimestamp(1749416000, tz=UTC),
    )

    assert stored(payload).reply_to is None


def test_reply_to_a_message_we_never_stored_keeps_the_replied_wamid():
    payload = load("text_reply")
    process_ok(payload)

    row = stored(payload)
    assert row.reply_to is None
    assert row.reply_to_wamid == OUR_WAMID


def test_reply_that_arrived_first_is_linked_when_the_answered_message_is_stored():
    payload = load("text_reply")
    process_ok(payload)
    earlier = load("text")
    earlier["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = OUR_WAMID
    process_ok(earlier)

    assert stored(payload).reply_to == Message.objects.get(wamid=OUR_WAMID)


def test_forwarded_and_frequently_forwarded_flags_are_kept():
    forwarded, chain = load("text_forwarded"), load("text_frequently_forwarded")
    process_ok(forwarded)
    process_ok(chain)

    assert (stored(forwarded).forwarded, stored(forwarded).frequently_forwarded) == (True, False)
    assert (stored(chain).forwarded, stored(chain).frequently_forwarded) == (False, True)


def test_product_enquiry_keeps_the_referred_product():
    payload = load("product_enquiry")
    process_ok(payload)

    row = stored(payload)
    assert row.referred_product == {"catalog_id": "194836987003835", "product_retailer_id": "di9ozbzfi4"}
    assert row.text == "Is this in stock?"


# --- media -------------------------------------------------------------------------------------


def test_image_keeps_media_id_mime_type_sha256_and_caption_and_waits_for_download():
    payload = load("image")
    process_ok(payload)

    row = stored(payload)
    assert row.type == "image"
    assert row.media_id == "1003383421387256"
    assert row.media_mime_type == "image/jpeg"
    assert row.media_sha256 == "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="
    assert row.media_caption == "Site photo from the visit"
    assert row.media_status == Message.MediaStatus.PENDING
    assert row.text == "[Image] Site photo from the visit"


def test_video_keeps_its_media_facts():
    payload = load("video")
    process_ok(payload)

    row = stored(payload)
    assert (row.media_id, row.media_mime_type, row.media_caption) == (
        "1013859600285441",
        "video/mp4",
        "Walkthrough",
    )
    assert row.text == "[Video] Walkthrough"


def test_voice_note_is_flagged_as_voice():
    payload = load("audio")
    process_ok(payload)

    row = stored(payload)
    assert row.details == {"voice": True}
    assert row.media_mime_type == "audio/ogg; codecs=opus"
    assert row.text == "[Voice message]"


def test_document_keeps_its_filename_and_caption():
    payload = load("document")
    process_ok(payload)

    row = stored(payload)
    assert row.media_filename == "salary-slip-may.pdf"
    assert row.media_caption == "My salary slip"
    assert row.text == "[Document] salary-slip-may.pdf: My salary slip"


def test_sticker_is_stored_as_media_with_its_animation_flag():
    payload = load("sticker")
    process_ok(payload)

    row = stored(payload)
    assert (row.media_id, row.media_mime_type) == ("1003383421387259", "image/webp")
    assert row.details == {"animated": False}
    assert row.text == "[Sticker]"


# --- structured kinds -----------------------------------------------------------------------------


def test_location_stores_coordinates_name_and_address():
    payload = load("location")
    process_ok(payload)

    row = stored(payload)
    assert row.details["latitude"] == pytest.approx(18.5679)
    assert row.details["longitude"] == pytest.approx(73.9143)
    assert row.details["name"] == "Phoenix Marketcity"
    assert row.details["address"] == "Viman Nagar, Pune, Maharashtra 411014"
    assert (
        row.text == "[Location] Phoenix Marketcity, Viman Nagar, Pune, Maharashtra 411014 (18.5679, 73.9143)"
    )


def test_shared_contact_card_stores_names_phones_and_emails():
    payload = load("contacts")
    process_ok(payload)

    row = stored(payload)
    (card,) = row.details["cards"]
    assert card["name"] == "Ravi Kumar"
    assert card["phones"] == ["+91 98765 43211"]
    assert card["whatsapp_ids"] == ["919876543211"]
    assert card["emails"] == ["ravi.kumar@example.com"]
    assert card["organization"] == "Kumar Traders"
    assert row.text == "[Contact] Ravi Kumar (+91 98765 43211, ravi.kumar@example.com)"
    # the card is not the sender: the lead is still the person who shared it
    assert row.conversation.lead.wa_id == USER_WA_ID


def test_button_reply_stores_the_button_and_links_our_message():
    ours = our_message()
    payload = load("interactive_button_reply")
    process_ok(payload)

    row = stored(payload)
    assert row.details == {
        "reply_type": "button_reply",
        "reply_id": "book-visit",
        "title": "Book a site visit",
        "description": "",
    }
    assert row.text == "Book a site visit"
    assert row.reply_to == ours


def test_list_reply_stores_the_row_id_title_and_description():
    payload = load("interactive_list_reply")
    process_ok(payload)

    row = stored(payload)
    assert row.details["reply_type"] == "list_reply"
    assert (row.details["reply_id"], row.details["description"]) == ("budget-2", "Mid-range homes")
    assert row.text == "50L - 1Cr"


def test_template_quick_reply_button_stores_its_payload_and_text():
    payload = load("button")
    process_ok(payload)

    row = stored(payload)
    assert row.details == {"payload": "Unsubscribe", "text": "Unsubscribe"}
    assert row.text == "Unsubscribe"
    assert row.reply_to_wamid == OUR_WAMID


def test_reaction_is_linked_to_the_message_reacted_to():
    ours = our_message()
    payload = load("reaction")
    process_ok(payload)

    row = stored(payload)
    assert row.details == {"emoji": "👍", "removed": False, "reacted_to": OUR_WAMID}
    assert row.reply_to == ours
    assert row.text == "Reacted 👍"


def test_reaction_to_a_message_we_record_later_is_linked_when_we_record_it():
    payload = load("reaction")
    process_ok(payload)
    lead = Lead.objects.get()

    ours = record_outbound(
        lead,
        wamid=OUR_WAMID,
        text="Here is the brochure",
        business=Business(phone_number_id=PHONE_NUMBER_ID),
        timestamp=datetime.fromtimestamp(1749416000, tz=UTC),
    )

    assert stored(payload).reply_to == ours


@pytest.mark.parametrize("emoji", [None, ""], ids=["emoji-absent", "emoji-empty"])
def test_reaction_removal_reads_as_removed_whether_emoji_is_absent_or_empty(emoji):
    payload = load("reaction_removed")
    if emoji is not None:
        message(payload)["reaction"]["emoji"] = emoji
    process_ok(payload)

    row = stored(payload)
    assert row.details["removed"] is True
    assert row.text == "Removed a reaction"


def test_order_stores_catalog_items_and_totals():
    payload = load("order")
    process_ok(payload)

    row = stored(payload)
    assert row.details["catalog_id"] == "194836987003835"
    assert row.details["items"] == [
        {"product_id": "di9ozbzfi4", "quantity": "2", "unit_price": "499.00", "currency": "INR"},
        {"product_id": "nqryix03ez", "quantity": "1", "unit_price": "1200", "currency": "INR"},
    ]
    assert row.details["totals"] == {"INR": "2198.00"}
    assert (
        row.text
        == "[Order] 2 item(s): 2 × di9ozbzfi4 at 499.00 INR, 1 × nqryix03ez at 1200 INR · 2198.00 INR · Please deliver by Friday"
    )


def test_request_welcome_opens_a_lead_with_the_ad_referral():
    payload = load("request_welcome")
    process_ok(payload)

    row = stored(payload)
    assert row.type == "request_welcome"
    assert row.text == "[Opened the chat]"
    lead = Lead.objects.get()
    assert (lead.wa_id, lead.source_ad_id, lead.first_message) == (USER_WA_ID, AD_ID, "[Opened the chat]")
    assert lead.ctwa_clid.startswith("Aff-n8ZTODiE79d22")


def test_unsupported_first_message_from_an_ad_still_opens_a_lead_with_its_referral():
    payload = load("unsupported_from_ad")
    process_ok(payload)

    row = stored(payload)
    assert row.errors == [
        {
            "code": "131060",
            "title": "This message is currently unavailable.",
            "message": "This message is currently unavailable.",
            "details": "The message is currently unavailable.",
        }
    ]
    lead = Lead.objects.get()
    assert lead.source_ad_id == AD_ID
    assert lead.referral["headline"] == "Home loans at 8.4%"


def test_unsupported_message_keeps_its_inner_type_and_errors():
    payload = load("unsupported")
    process_ok(payload)

    row = stored(payload)
    assert row.details == {"unsupported_type": "poll_creation"}
    assert row.errors[0]["code"] == "131051"
    assert row.errors[0]["details"] == "Message type is currently not supported."
    assert row.text == "[Unsupported message: poll_creation] Message type unknown (131051)"


def test_a_future_message_type_is_stored_with_its_raw_object():
    payload = load("unknown_type")
    event = process_ok(payload)

    row = stored(payload)
    assert row.type == "revoke"
    assert row.text == "[revoke]"
    assert row.payload["revoke"]["original_message_id"].startswith("wamid.")
    assert event.error == ""


def test_a_future_type_with_a_body_reads_as_that_body():
    payload = variant("unknown_type", type="poll_answer", revoke=None, poll_answer={"text": "Option B"})
    process_ok(payload)

    assert stored(payload).text == "[poll_answer] Option B"


# --- statuses ---------------------------------------------------------------------------------------


def test_failed_status_keeps_code_title_message_and_details_on_the_message():
    ours = our_message()
    process_ok(load("status_failed"))

    ours.refresh_from_db()
    assert ours.status == "failed"
    assert ours.error_code == "131049"
    assert ours.error_title == "This message was not delivered to maintain healthy ecosystem engagement."
    assert ours.error_message == "This message was not delivered to maintain healthy ecosystem engagement."
    assert ours.error_details.startswith("In order to maintain a healthy ecosystem engagement")
    report = StatusUpdate.objects.get(wamid=OUR_WAMID, status="failed")
    assert report.error_details == ours.error_details


def test_sent_status_stores_pricing_conversation_and_our_callback_data():
    ours = our_message(status="pending")
    process_ok(load("status_sent_pricing"))

    report = StatusUpdate.objects.get(wamid=OUR_WAMID, status="sent")
    assert (report.pricing_category, report.pricing_type, report.pricing_model) == (
        "marketing",
        "regular",
        "PMP",
    )
    assert report.billable is True
    assert report.conversation_id == "6ceb9d929c1a0a5f5f2c6a5a6b5b6c6a"
    assert report.conversation_origin == "marketing"
    assert report.conversation_expires_at == datetime.fromtimestamp(1749502783, tz=UTC)
    assert report.biz_opaque_callback_data == "lead:42;campaign:diwali"
    ours.refresh_from_db()
    assert ours.biz_opaque_callback_data == "lead:42;campaign:diwali"


def test_status_for_an_unknown_message_keeps_billing_until_the_message_appears():
    process_ok(load("status_sent_pricing"))

    report = StatusUpdate.objects.get(wamid=OUR_WAMID)
    assert (report.applied, report.pricing_category) == (False, "marketing")


def test_played_status_moves_a_read_voice_note_forward():
    ours = our_message(status="read")
    process_ok(load("status_played"))

    ours.refresh_from_db()
    assert ours.status == "played"


# --- account events -----------------------------------------------------------------------------------


def account_event(name: str, django_capture_on_commit_callbacks) -> tuple[AccountEvent, list]:
    received: list = []

    def listen(sender, event, **kwargs):
        received.append(event)

    account_event_received.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            process_ok(load(name))
    finally:
        account_event_received.disconnect(listen)
    return AccountEvent.objects.get(), received


def test_errors_without_messages_become_an_announced_account_event(django_capture_on_commit_callbacks):
    row, received = account_event("errors", django_capture_on_commit_callbacks)

    assert (row.field, row.event) == ("errors", "130429")
    assert row.summary == "Error 130429: Rate limit hit"
    assert row.payload["error_data"]["details"] == "Cloud API message throughput has been reached."
    assert received == [row]


def test_template_rejection_reads_with_name_language_and_reason(django_capture_on_commit_callbacks):
    row, received = account_event("message_template_status_update", django_capture_on_commit_callbacks)

    assert (row.field, row.event) == ("message_template_status_update", "REJECTED")
    assert row.summary == "Template 'diwali_offer' (en_US) REJECTED — INVALID_FORMAT"
    assert row.occurred_at == datetime.fromtimestamp(1749416383, tz=UTC)
    assert received == [row]


def test_account_restriction_reads_with_its_restriction(django_capture_on_commit_callbacks):
    row, _ = account_event("account_update", django_capture_on_commit_callbacks)

    assert row.summary == "Account ACCOUNT_RESTRICTION: RESTRICTED_ADD_PHONE_NUMBER_ACTION"


def test_number_quality_downgrade_reads_with_old_and_new_limit(django_capture_on_commit_callbacks):
    row, _ = account_event("phone_number_quality_update", django_capture_on_commit_callbacks)

    assert row.summary == "Number 15550783881: DOWNGRADE (limit TIER_10K -> TIER_1K)"


def test_a_field_without_a_summary_is_kept_with_its_event_name():
    payload = load("account_update")
    payload["entry"][0]["changes"][0] = {
        "field": "business_capability_update",
        "value": {"event": "LIMIT_CHANGED"},
    }
    process_ok(payload)

    row = AccountEvent.objects.get()
    assert (row.field, row.summary) == (
        "business_capability_update",
        "business_capability_update: LIMIT_CHANGED",
    )


# --- one POST, many kinds ----------------------------------------------------------------------------


def test_batched_post_with_several_kinds_statuses_and_an_error_stores_every_part(post_webhook):
    ConversationFactory()  # another lead's thread must not be touched
    ours = our_message()
    payload = load("batched_mixed")
    assert post_webhook(payload).status_code == 200

    event = WebhookEvent.objects.get()
    assert process_event(event.pk).status == "processed"
    event.refresh_from_db()
    assert event.update_count == 8

    lead = Lead.objects.get(wa_id=USER_WA_ID)
    rows = Message.objects.filter(conversation__lead=lead, direction=Message.Direction.INBOUND).order_by("id")
    assert [r.type for r in rows] == ["text", "image", "location", "reaction", "interactive"]
    assert lead.source_ad_id == AD_ID
    assert rows[1].media_status == Message.MediaStatus.PENDING
    assert rows[2].details["name"] == "Shaniwar Wada"
    assert rows[3].reply_to == ours
    assert rows[4].details["reply_id"] == "call-me"
    ours.refresh_from_db()
    assert ours.status == "read"
    assert set(StatusUpdate.objects.values_list("status", flat=True)) == {"sent", "read"}
    assert AccountEvent.objects.get().summary == "Error 131000: Something went wrong"


def test_one_malformed_message_in_a_batch_fails_alone():
    payload = load("batched_mixed")
    payload["entry"][0]["changes"][0]["value"]["messages"][2]["location"] = "not an object"
    payload["entry"][0]["changes"][0]["value"]["messages"][1]["timestamp"] = "yesterday"
    event = process(payload)

    assert event.status == WebhookEvent.Status.FAILED
    assert "messages[1]" in event.error
    assert Message.objects.count() == 4  # the bad timestamp alone is refused; the odd location is kept
