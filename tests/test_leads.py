"""Inbound messages become one lead per WhatsApp user, with its thread, its messages and its first ad."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.delivery import deliver
from tests.support.factories import AdFactory, CampaignFactory
from tests.support.world import T0
from whatsapp_leads.models import Ad, Conversation, Lead, Message
from whatsapp_leads.providers.meta.simulation import (
    PHONE_NUMBER_ID,
    contact,
    envelope,
    inbound,
    messages_value,
    referral,
    text_message,
)

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "payloads"
KINDS = json.loads((PAYLOADS / "message_kinds.json").read_text(encoding="utf-8"))


def from_user(*messages: dict, wa_id: str = "919876543210", name: str = "Asha Verma", user_id=None) -> dict:
    return envelope(messages_value(list(messages), [contact(wa_id=wa_id, name=name, user_id=user_id)]))


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --- identity ----------------------------------------------------------------------------------


def test_first_message_creates_a_lead_with_e164_phone_profile_name_and_first_message():
    deliver(inbound(wa_id="919876543210", name="Asha Verma", text="Hi, I'm interested", timestamp=T0))
    lead = Lead.objects.get()
    assert lead.wa_id == "919876543210"
    assert lead.user_id is None
    assert lead.phone == "+919876543210"
    assert lead.name == "Asha Verma"
    assert lead.first_message == "Hi, I'm interested"
    assert lead.first_message_at == at(T0)
    assert lead.last_message_at == at(T0)
    assert lead.status == Lead.Status.NEW


def test_phone_is_e164_for_any_country():
    deliver(inbound(wa_id="16505551234", name="Sam"))
    assert Lead.objects.get().phone == "+16505551234"


def test_more_messages_from_the_same_user_stay_on_one_lead():
    deliver(inbound(text="Hi", timestamp=T0))
    deliver(inbound(text="What is the rate?", timestamp=T0 + 60))
    deliver(inbound(text="Call me", timestamp=T0 + 120))
    lead = Lead.objects.get()
    assert lead.first_message == "Hi"
    assert lead.last_message_at == at(T0 + 120)
    assert Message.objects.filter(conversation__lead=lead).count() == 3


def test_different_users_get_different_leads():
    deliver(inbound(wa_id="919876543210", name="Asha Verma"))
    deliver(inbound(wa_id="919812345678", name="Rahul Mehta"))
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["Asha Verma", "Rahul Mehta"]


def test_lead_is_identified_by_user_id_when_meta_sends_one():
    deliver(inbound(wa_id="919876543210", user_id="IN.13491208655302741918"))
    # A later message where the phone is withheld (username user): same lead, found by user id.
    deliver(
        from_user(
            text_message(wa_id="", user_id="IN.13491208655302741918"),
            wa_id="",
            user_id="IN.13491208655302741918",
        )
    )
    lead = Lead.objects.get()
    assert lead.user_id == "IN.13491208655302741918"
    assert lead.wa_id == "919876543210"
    assert Message.objects.filter(conversation__lead=lead).count() == 2


def test_user_id_from_from_user_id_is_enough_without_contacts_user_id():
    message = text_message(wa_id="919876543210", user_id="IN.13491208655302741918")
    deliver(from_user(message))  # contacts[] carries only wa_id and the profile
    assert Lead.objects.get().user_id == "IN.13491208655302741918"


def test_lead_known_only_by_user_id_has_no_phone():
    message = text_message(wa_id="", user_id="IN.98765432109876543210")
    deliver(from_user(message, wa_id="", user_id="IN.98765432109876543210", name="Priya"))
    lead = Lead.objects.get()
    assert (lead.user_id, lead.wa_id, lead.phone, lead.name) == ("IN.98765432109876543210", None, "", "Priya")


def test_lead_first_seen_by_wa_id_gains_the_user_id_later_and_stays_one_lead():
    deliver(inbound(wa_id="919876543210", timestamp=T0))
    deliver(inbound(wa_id="919876543210", user_id="IN.13491208655302741918", timestamp=T0 + 60))
    lead = Lead.objects.get()
    assert lead.user_id == "IN.13491208655302741918"
    assert lead.wa_id == "919876543210"


def test_lead_first_seen_by_user_id_gains_wa_id_and_phone_later():
    deliver(from_user(text_message(wa_id="", user_id="IN.1349"), wa_id="", user_id="IN.1349"))
    deliver(inbound(wa_id="919876543210", user_id="IN.1349", timestamp=T0 + 60))
    lead = Lead.objects.get()
    assert (lead.wa_id, lead.phone) == ("919876543210", "+919876543210")


def test_a_new_profile_name_updates_the_lead():
    deliver(inbound(name="Asha", timestamp=T0))
    deliver(inbound(name="Asha Verma", timestamp=T0 + 60))
    assert Lead.objects.get().name == "Asha Verma"


def test_an_earlier_message_arriving_late_becomes_the_first_message():
    deliver(inbound(text="Second thought: call me", timestamp=T0 + 300))
    deliver(inbound(text="Hello, I saw the ad", timestamp=T0))
    lead = Lead.objects.get()
    assert lead.first_message == "Hello, I saw the ad"
    assert lead.first_message_at == at(T0)
    assert lead.last_message_at == at(T0 + 300)


# --- conversations and messages ----------------------------------------------------------------


def test_one_conversation_per_lead_and_business_number():
    deliver(inbound(timestamp=T0))
    deliver(inbound(timestamp=T0 + 10))
    other_number = text_message(timestamp=T0 + 20)
    value = messages_value([other_number], [contact()])
    value["metadata"] = {"display_phone_number": "15550783999", "phone_number_id": "106540352249999"}
    deliver(envelope(value))

    lead = Lead.objects.get()
    first, second = lead.conversations.order_by("id")
    assert (first.phone_number_id, first.message_count, first.inbound_count) == (PHONE_NUMBER_ID, 2, 2)
    assert (second.phone_number_id, second.display_phone_number, second.message_count) == (
        "106540352249999",
        "15550783999",
        1,
    )
    assert first.started_at == at(T0)
    assert first.last_inbound_at == at(T0 + 10)


def test_a_message_delivered_twice_is_stored_once():
    payload = inbound(message_id="wamid.ONCE", timestamp=T0)
    first = deliver(payload)
    deliver(payload)
    message = Message.objects.get()
    assert message.wamid == "wamid.ONCE"
    assert message.webhook_event_id == first.pk
    assert Conversation.objects.get().message_count == 1


def test_message_keeps_metas_time_direction_and_raw_object():
    raw = text_message(message_id="wamid.RAW", timestamp=T0, text="Is the rate fixed?")
    deliver(from_user(raw))
    message = Message.objects.get()
    assert message.direction == Message.Direction.INBOUND
    assert message.status == Message.Status.RECEIVED
    assert message.timestamp == at(T0)
    assert message.payload == raw


# --- message kinds -----------------------------------------------------------------------------

# (fixture name, stored type, words the readable text must contain, media id, media mime type)
KIND_CASES = [
    ("text", "text", ["Is the 8.4% rate fixed or floating?"], "", ""),
    ("image", "image", ["Image", "Front of the flat"], "1003383421387256", "image/jpeg"),
    ("video", "video", ["Video", "Walkthrough of the flat"], "1166846181421424", "video/mp4"),
    ("audio", "audio", ["Voice message"], "1013859600285441", "audio/ogg; codecs=opus"),
    ("document", "document", ["Salary slip for May"], "1192343025338457", "application/pdf"),
    ("location", "location", ["Phoenix Marketcity", "Kurla West"], "", ""),
    ("button", "button", ["Call me back"], "", ""),
    ("interactive_button_reply", "interactive", ["Home loan"], "", ""),
    ("interactive_list_reply", "interactive", ["20 years"], "", ""),
    ("reaction", "reaction", ["\N{THUMBS UP SIGN}"], "", ""),
    ("poll_vote", "poll_vote", ["poll_vote"], "", ""),
]


@pytest.mark.parametrize(
    ("name", "kind", "words", "media_id", "mime_type"), KIND_CASES, ids=[c[0] for c in KIND_CASES]
)
def test_each_message_kind_is_stored_with_readable_text(name, kind, words, media_id, mime_type):
    raw = KINDS[name]
    deliver(from_user(raw))
    message = Message.objects.get()
    assert message.wamid == raw["id"]
    assert message.type == kind
    for word in words:
        assert word in message.text
    assert (message.media_id, message.media_mime_type) == (media_id, mime_type)
    assert message.payload == raw
    assert Lead.objects.get().first_message == message.text


def test_all_kinds_in_one_post_are_all_stored():
    deliver(from_user(*KINDS.values()))
    assert set(Message.objects.values_list("wamid", flat=True)) == {m["id"] for m in KINDS.values()}


# --- referral and first touch ------------------------------------------------------------------


def test_ad_referral_is_stored_on_the_message_and_as_first_touch_on_the_lead():
    ref = referral("120226305854810726", ctwa_clid="ARAkLkA8rmlFeiCktEJQ-first")
    deliver(from_user(text_message(referral_=ref, timestamp=T0)))

    message = Message.objects.get()
    assert message.referral == ref
    assert message.ctwa_clid == "ARAkLkA8rmlFeiCktEJQ-first"
    lead = Lead.objects.get()
    assert lead.source_ad_id == "120226305854810726"
    assert lead.ctwa_clid == "ARAkLkA8rmlFeiCktEJQ-first"
    assert lead.referral == ref
    for key in ("source_id", "source_type", "source_url", "headline", "body", "media_type", "image_url"):
        assert lead.referral[key] == ref[key]


def test_video_ad_referral_keeps_video_and_thumbnail_urls():
    ref = referral(
        media_type="video",
        video_url="https://scontent.xx.fbcdn.net/v/t42.1790-2/ad_video.mp4",
        thumbnail_url="https://scontent.xx.fbcdn.net/v/t15.5256-10/ad_thumb.jpg",
    )
    del ref["image_url"]
    deliver(from_user(text_message(referral_=ref)))
    lead = Lead.objects.get()
    assert lead.referral["video_url"] == "https://scontent.xx.fbcdn.net/v/t42.1790-2/ad_video.mp4"
    assert lead.referral["thumbnail_url"] == "https://scontent.xx.fbcdn.net/v/t15.5256-10/ad_thumb.jpg"


def test_a_later_ad_click_does_not_overwrite_first_touch():
    first = referral("120226305854810726", ctwa_clid="clid-first")
    second = referral("120226305854899999", ctwa_clid="clid-second", headline="Car loans")
    deliver(from_user(text_message(referral_=first, timestamp=T0)))
    deliver(from_user(text_message(referral_=second, timestamp=T0 + 86400)))

    lead = Lead.objects.get()
    assert (lead.source_ad_id, lead.ctwa_clid) == ("120226305854810726", "clid-first")
    assert lead.referral == first
    assert lead.ad.meta_id == "120226305854810726"
    # The second click is still kept where it happened: on its message.
    later = Message.objects.get(timestamp=at(T0 + 86400))
    assert (later.referral, later.ctwa_clid) == (second, "clid-second")


def test_an_earlier_ad_click_processed_late_takes_over_first_touch_by_meta_time():
    """Meta delivers out of order: the later click is processed first, then the earlier one."""
    loans = CampaignFactory(name="Home loans")
    cars = CampaignFactory(name="Car loans")
    AdFactory(meta_id="120226305854810726", campaign=loans)
    AdFactory(meta_id="120226305854899999", campaign=cars)
    earlier = referral("120226305854810726", ctwa_clid="clid-earlier")
    later = referral("120226305854899999", ctwa_clid="clid-later")
    deliver(from_user(text_message(referral_=later, timestamp=T0 + 3600)))
    deliver(from_user(text_message(referral_=earlier, timestamp=T0)))

    lead = Lead.objects.get()
    assert (lead.source_ad_id, lead.ctwa_clid) == ("120226305854810726", "clid-earlier")
    assert lead.first_touch_at == at(T0)
    assert lead.campaign == loans
    # and a redelivery of the later click changes nothing
    deliver(from_user(text_message(referral_=later, timestamp=T0 + 7200)))
    lead.refresh_from_db()
    assert lead.source_ad_id == "120226305854810726"


def test_ad_is_created_from_the_referral_on_first_sight():
    deliver(inbound(ad_id="120226305854810726"))
    ad = Ad.objects.get()
    assert ad.meta_id == "120226305854810726"
    assert ad.headline == "Home loans at 8.4%"
    assert ad.source_url == "https://fb.me/3cr4Wqqkv"
    assert ad.campaign is None
    lead = Lead.objects.get()
    assert lead.ad == ad
    assert lead.campaign is None


def test_known_ad_links_the_lead_to_its_campaign():
    campaign = CampaignFactory(name="Home loans Pune")
    ad = AdFactory(meta_id="120226305854810726", campaign=campaign)
    deliver(inbound(ad_id="120226305854810726"))
    lead = Lead.objects.get()
    assert lead.ad == ad
    assert lead.campaign == campaign
    assert Ad.objects.count() == 1


def test_referral_to_the_same_ad_from_many_users_shares_one_ad_row():
    deliver(inbound(wa_id="919876543210", ad_id="120226305854810726"))
    deliver(inbound(wa_id="919812345678", ad_id="120226305854810726"))
    ad = Ad.objects.get()
    assert set(Lead.objects.values_list("ad", flat=True)) == {ad.pk}


def test_organic_message_has_no_attribution():
    deliver(inbound())
    lead = Lead.objects.get()
    assert (lead.source_ad_id, lead.ctwa_clid, lead.referral, lead.ad) == ("", "", {}, None)
    assert Message.objects.get().referral == {}
