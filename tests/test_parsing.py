"""Meta webhook JSON -> typed updates: every entry, change, message and status; never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from whatsapp_leads.parsing import (
    AccountNotice,
    InboundMessage,
    InvalidUpdate,
    MessageStatus,
)
from whatsapp_leads.providers.meta.parser import PayloadError, parse_payload, parse_timestamp
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    WABA_ID,
    contact,
    envelope,
    messages_value,
    referral,
    status,
    statuses_value,
    text_message,
)

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def only(updates: list, kind: type) -> list:
    return [u for u in updates if isinstance(u, kind)]


def test_batched_post_yields_every_message_and_status_of_every_entry_and_change():
    payload = load("batched.json")
    updates = parse_payload(payload)

    expected_messages = [
        m["id"]
        for entry in payload["entry"]
        for change in entry["changes"]
        for m in change["value"].get("messages", [])
    ]
    expected_statuses = [
        (s["id"], s["status"])
        for entry in payload["entry"]
        for change in entry["changes"]
        for s in change["value"].get("statuses", [])
    ]
    assert len(expected_messages) == 4 and len(expected_statuses) == 5
    assert [m.wamid for m in only(updates, InboundMessage)] == expected_messages
    assert [(s.wamid, s.status) for s in only(updates, MessageStatus)] == expected_statuses
    assert only(updates, InvalidUpdate) == []


def test_each_message_knows_which_business_number_it_reached():
    updates = only(parse_payload(load("batched.json")), InboundMessage)
    assert [m.business.phone_number_id for m in updates] == [
        "106540352242922",
        "106540352242922",
        "106540352249999",
        "106540352249999",
    ]
    assert {m.business.waba_id for m in updates} == {"102290129340398"}


def test_sender_profile_is_matched_to_each_message_by_its_from():
    first, second, *_ = only(parse_payload(load("batched.json")), InboundMessage)
    assert (first.contact.wa_id, first.contact.user_id, first.contact.name) == (
        "919876543210",
        "IN.13491208655302741918",
        "Asha Verma",
    )
    assert (second.contact.wa_id, second.contact.user_id, second.contact.name) == (
        "919812345678",
        "",
        "Rahul Mehta",
    )


def test_sender_known_only_by_business_scoped_user_id():
    message = text_message(wa_id="", user_id="IN.98765432109876543210", message_id="wamid.BSUID1")
    payload = envelope(messages_value([message], [contact(wa_id="", user_id="IN.98765432109876543210")]))
    (update,) = parse_payload(payload)
    assert isinstance(update, InboundMessage)
    assert update.contact.wa_id == ""
    assert update.contact.user_id == "IN.98765432109876543210"
    assert update.contact.name == "Asha Verma"


def test_every_referral_field_is_read():
    ref = referral(
        "120226305854810726",
        ctwa_clid="ARAkLkA8rmlFeiCktEJQ-clid",
        media_type="video",
        image_url="",
        video_url="https://scontent.xx.fbcdn.net/v/t42.1790-2/ad_video.mp4",
        thumbnail_url="https://scontent.xx.fbcdn.net/v/t15.5256-10/ad_thumb.jpg",
    )
    (update,) = parse_payload(envelope(messages_value([text_message(referral_=ref)], [contact()])))
    r = update.referral
    assert (r.source_id, r.source_type, r.source_url) == (
        "120226305854810726",
        "ad",
        "https://fb.me/3cr4Wqqkv",
    )
    assert (r.headline, r.body) == ("Home loans at 8.4%", "Get a home loan approved in 48 hours.")
    assert (r.media_type, r.video_url, r.thumbnail_url) == (
        "video",
        "https://scontent.xx.fbcdn.net/v/t42.1790-2/ad_video.mp4",
        "https://scontent.xx.fbcdn.net/v/t15.5256-10/ad_thumb.jpg",
    )
    assert r.ctwa_clid == "ARAkLkA8rmlFeiCktEJQ-clid"
    assert r.welcome_text == "Hi! How can we help you?"
    assert r.raw == ref


def test_referral_without_click_id_from_a_status_ad_is_still_read():
    ref = referral()
    del ref["ctwa_clid"]  # Meta omits it for ads shown in WhatsApp Status
    (update,) = parse_payload(envelope(messages_value([text_message(referral_=ref)], [contact()])))
    assert update.referral.source_id == "120226305854810726"
    assert update.referral.ctwa_clid == ""


@pytest.mark.parametrize(
    ("kind", "media_id", "mime_type"),
    [
        ("image", "1003383421387256", "image/jpeg"),
        ("video", "1166846181421424", "video/mp4"),
        ("audio", "1013859600285441", "audio/ogg; codecs=opus"),
        ("document", "1192343025338457", "application/pdf"),
    ],
)
def test_media_messages_carry_id_and_mime_type(kind, media_id, mime_type):
    raw = load("message_kinds.json")[kind]
    (update,) = parse_payload(envelope(messages_value([raw], [contact()])))
    assert update.type == kind
    assert (update.media.id, update.media.mime_type) == (media_id, mime_type)
    assert update.media.caption == raw[kind].get("caption", "")


def test_unknown_message_type_is_kept_with_its_raw_object():
    raw = load("message_kinds.json")["poll_vote"]
    (update,) = parse_payload(envelope(messages_value([raw], [contact()])))
    assert isinstance(update, InboundMessage)
    assert update.type == "poll_vote"
    assert update.raw == raw
    assert "poll_vote" in update.text


def test_status_values_unknown_to_us_degrade_to_unknown():
    payload = envelope(statuses_value([status("wamid.OUT1", "deleted", timestamp=1749416400)]))
    (update,) = parse_payload(payload)
    assert isinstance(update, MessageStatus)
    assert update.status == "unknown"
    assert update.raw["status"] == "deleted"


def test_failed_status_carries_metas_error():
    payload = load("batched.json")
    failed = next(s for s in only(parse_payload(payload), MessageStatus) if s.status == "failed")
    (error,) = failed.errors
    assert error.code == "131049"
    assert error.title.startswith("This message was not delivered")


def test_a_broken_message_is_reported_and_its_neighbours_still_parse():
    good = text_message(message_id="wamid.GOOD", timestamp=1749416383)
    no_id = text_message(timestamp=1749416384)
    del no_id["id"]
    bad_time = text_message(message_id="wamid.BADTIME", timestamp=1749416385)
    bad_time["timestamp"] = "yesterday"
    payload = envelope(messages_value([no_id, good, bad_time], [contact()]))

    updates = parse_payload(payload)

    assert [u.wamid for u in only(updates, InboundMessage)] == ["wamid.GOOD"]
    invalid = only(updates, InvalidUpdate)
    assert [u.path for u in invalid] == [
        "entry[0].changes[0].value.messages[0]",
        "entry[0].changes[0].value.messages[2]",
    ]
    assert "no id" in invalid[0].reason
    assert "yesterday" in invalid[1].reason


def test_message_without_any_sender_identity_is_invalid_not_a_crash():
    message = text_message(wa_id="", message_id="wamid.NOBODY")
    (update,) = parse_payload(envelope(messages_value([message], [])))
    assert isinstance(update, InvalidUpdate)
    assert "wamid.NOBODY" in update.reason


def test_errors_without_messages_become_an_account_notice():
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        "errors": [{"code": 130429, "title": "Rate limit hit", "message": "Rate limit hit"}],
    }
    (update,) = parse_payload(envelope(value))
    assert isinstance(update, AccountNotice)
    assert update.event == "130429"
    assert update.business.waba_id == WABA_ID


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(["not", "an", "object"], "should be a JSON object", id="list"),
        pytest.param("whatsapp", "should be a JSON object", id="string"),
        pytest.param(
            {"object": "page", "entry": []}, "expected 'whatsapp_business_account'", id="wrong-object"
        ),
        pytest.param({"entry": []}, "expected 'whatsapp_business_account'", id="no-object"),
        pytest.param(
            {"object": "whatsapp_business_account", "entry": {}}, "entry should be a list", id="entry-dict"
        ),
    ],
)
def test_a_body_that_is_not_a_whatsapp_webhook_raises_payload_error_with_the_reason(payload, reason):
    with pytest.raises(PayloadError, match=reason):
        parse_payload(payload)


def test_malformed_entries_and_changes_are_reported_not_raised():
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            "not-an-entry",
            {"id": WABA_ID, "changes": "not-a-list"},
            {"id": WABA_ID, "changes": [{"field": "messages", "value": ["not", "an", "object"]}]},
            {
                "id": WABA_ID,
                "changes": [{"field": "messages", "value": messages_value([text_message()], [contact()])}],
            },
        ],
    }
    updates = parse_payload(payload)
    assert [u.path for u in only(updates, InvalidUpdate)] == ["entry[0]", "entry[1]", "entry[2].changes[0]"]
    assert len(only(updates, InboundMessage)) == 1


@pytest.mark.parametrize("value", ["1749416383", 1749416383, 1749416383.0])
def test_timestamps_are_unix_seconds_as_string_or_number_in_utc(value):
    assert parse_timestamp(value) == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)


def test_referral_urls_that_are_not_http_are_dropped_but_kept_raw():
    from whatsapp_leads.providers.meta.simulation import (
        contact,
        envelope,
        messages_value,
        referral,
        text_message,
    )

    ref = referral(source_url="javascript:alert(1)", image_url="HTTPS://cdn.example.com/a.png")
    payload = envelope(messages_value([text_message(referral_=ref)], [contact()]))
    (message,) = parse_payload(payload)
    assert message.referral.source_url == ""
    assert message.referral.image_url == "HTTPS://cdn.example.com/a.png"
    assert message.referral.raw["source_url"] == "javascript:alert(1)"
