"""WhatsApp through Twilio: the same security contract, Twilio's documented shapes, the same pipeline.

Twilio's HTTP API is faked at the HTTP boundary (tests/support/fake_twilio.py); everything of ours
is real. Payloads are in tests/payloads/twilio/, shaped as Twilio's webhook reference documents.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory
from tests.support.fake_twilio import (
    AUTH_TOKEN,
    OUR_NUMBER,
    FakeTwilio,
    Reply,
    point_settings_at,
    twilio_error,
)
from tests.support.provider_security import ProviderSecurityCases
from tests.support.world import AD_ID, campaign_with_team
from whatsapp_leads.models import Lead, Message, WebhookEvent
from whatsapp_leads.parsing.enums import DeliveryStatus, MessageType
from whatsapp_leads.parsing.errors import PermanentError
from whatsapp_leads.parsing.types import InboundMessage, MessageStatus
from whatsapp_leads.providers.base import MediaError
from whatsapp_leads.providers.registry import get_provider
from whatsapp_leads.providers.twilio import parser
from whatsapp_leads.providers.twilio.signature import form_params, matches, sign
from whatsapp_leads.providers.twilio.simulation import inbound, media, status_callback
from whatsapp_leads.services import media as media_service
from whatsapp_leads.services.outbound import outbox
from whatsapp_leads.services.processing import process_event

PAYLOADS = Path(__file__).parent / "payloads" / "twilio"
TWILIO = "whatsapp_leads.providers.twilio.TwilioProvider"
META = "whatsapp_leads.providers.meta.MetaProvider"
URL = "/whatsapp/webhook/twilio/"
FORM = "application/x-www-form-urlencoded"


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.form").read_bytes()


def signature_for(body: bytes, *, url: str = f"http://testserver{URL}", token: str = AUTH_TOKEN) -> str:
    return sign(url, form_params(body), token)


@pytest.fixture
def twilio(settings):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "PROVIDERS": [META, TWILIO],
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
        "TWILIO_AUTH_TOKENS": [AUTH_TOKEN],
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{OUR_NUMBER}",
    }


@pytest.fixture
def fake(settings):
    server = FakeTwilio()
    with server.serve():
        point_settings_at(settings, server)
        yield server


def post(client, body: bytes, *, signature: str | None = None, **extra):
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature if signature is not None else signature_for(body)}
    return client.generic("POST", URL, body, content_type=FORM, **headers, **extra)


def received(client, body: bytes, django_capture_on_commit_callbacks) -> WebhookEvent:
    """Post ``body`` signed, then process what was stored, as the worker would."""
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body).status_code == 200
    event = WebhookEvent.objects.order_by("-pk").first()
    assert event is not None
    process_event(event.pk)
    event.refresh_from_db()
    return event


# --- the shared security contract -------------------------------------------------------------------


@pytest.mark.usefixtures("twilio")
class TestTwilioProviderSecurity(ProviderSecurityCases):
    provider = "twilio"
    content_type = FORM

    def valid_body(self) -> bytes:
        return payload("inbound_ctwa")

    def signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        return {"HTTP_X_TWILIO_SIGNATURE": signature_for(body, url=f"http://testserver{url}")}

    def wrongly_signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        return {
            "HTTP_X_TWILIO_SIGNATURE": signature_for(body, url=f"http://testserver{url}", token="not-ours")
        }


# --- X-Twilio-Signature ---------------------------------------------------------------------------------


def test_signature_matches_twilios_documented_vector():
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
              ("From", "+12349013030"), ("To", "+18005551212")]  # fmt: skip
    assert (
        sign("https://mycompany.com/myapp.php?foo=1&bar=2", params, "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


WHATSAPP_PARAMS = {
    "AccountSid": "AC00000000000000000000000000000000", "Body": "Hi", "From": "whatsapp:+14155550100",
    "MessageSid": "SM11111111111111111111111111111111", "NumMedia": "0", "ProfileName": "Asha",
    "To": "whatsapp:+14155550199", "WaId": "14155550100",
}  # fmt: skip


def test_signature_of_a_whatsapp_message_matches_whether_twilio_signed_with_the_port_or_not():
    url, body = "https://crm.example.com/twilio/whatsapp/inbound", urlencode(WHATSAPP_PARAMS).encode()
    for header in ("qyOhVv2lYSkmdbJBGFwYHcPLcVo=", "s8/2+bV4FQZhUTCPBWUZHc+1x7A="):  # without, with :443
        assert matches(url=url, body=body, header=header, tokens=["test_auth_token"])
    assert not matches(url=url, body=body, header="qyOhVv2lYSkmdbJBGFwYHcPLcVo=", tokens=["other"])


def test_signature_of_a_json_body_covers_the_url_and_the_bodys_hash():
    url = ("https://crm.example.com/twilio/status?bodySHA256="
           "ce8c3c8da52a17f7dd3e526b3b67d41402b438513f6b2faf55189573f2873f02")  # fmt: skip
    body = b'{"MessageSid":"SM1","MessageStatus":"delivered"}'
    assert matches(url=url, body=body, header="tF8Eracgb4bvZSScQ1Bf7JJPWvk=", tokens=["test_auth_token"])
    assert not matches(
        url=url, body=body + b" ", header="tF8Eracgb4bvZSScQ1Bf7JJPWvk=", tokens=["test_auth_token"]
    )


@pytest.mark.django_db
def test_any_of_several_auth_tokens_is_accepted_while_one_is_rotated(client, twilio, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "TWILIO_AUTH_TOKENS": "new-token, old-token"}
    body = payload("inbound_text")
    assert post(client, body, signature=signature_for(body, token="old-token")).status_code == 200
    assert post(client, body, signature=signature_for(body, token="retired")).status_code == 403
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(client, twilio, settings):
    public = "https://crm.example.com/whatsapp/webhook/twilio/"
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "TWILIO_PUBLIC_URL": public}
    body = payload("inbound_text")
    assert post(client, body).status_code == 403  # signed for the URL the server sees, not Twilio's
    assert post(client, body, signature=signature_for(body, url=public)).status_code == 200
    assert WebhookEvent.objects.get().headers["x-twilio-signature"] == signature_for(body, url=public)


@pytest.mark.django_db
def test_a_parameter_added_after_signing_is_refused(client, twilio):
    body = payload("inbound_text")
    assert post(client, body + b"&ReferralSourceId=1", signature=signature_for(body)).status_code == 403
    assert not WebhookEvent.objects.exists()


# --- parsing: Twilio's fields into typed updates ----------------------------------------------------------

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def only(body: bytes):
    (update,) = parser.parse(body, received_at=AT)
    return update


def test_a_ctwa_message_carries_the_sender_our_number_and_the_ad_referral():
    message = only(payload("inbound_ctwa"))
    assert isinstance(message, InboundMessage)
    assert (message.wamid, message.type, message.text, message.timestamp) == (
        "SM5a1c0e1f2b3c4d5e6f708192a3b4c5d6", MessageType.TEXT, "Hi, I'm interested in the home loan", AT)  # fmt: skip
    assert (message.contact.wa_id, message.contact.name) == ("919876543210", "Asha Verma")
    assert (message.business.provider, message.business.phone_number_id) == ("twilio", "+14155550199")
    referral = message.referral
    assert referral is not None
    assert (referral.source_id, referral.source_type, referral.headline, referral.media_type) == (
        AD_ID, "ad", "Home loans at 8.4%", "image")  # fmt: skip
    assert referral.ctwa_clid.startswith("ARAkLkA8rmlFeiCktEJQ")
    assert referral.raw["source_type"] == "ad"  # the app's vocabulary, what the free-entry-point rule reads
    assert referral.raw["twilio"]["ReferralMediaId"] == "1234567890"  # Twilio's own fields kept


def test_an_organic_message_has_no_referral():
    message = only(payload("inbound_text"))
    assert message.referral is None
    assert message.raw["ProfileName"] == "Asha"


def test_an_image_gets_a_media_id_that_names_twilios_account_message_and_media():
    message = only(payload("inbound_image"))
    assert (message.type, message.text) == (MessageType.IMAGE, "Our house")
    assert message.media is not None
    assert message.media.id == ("AC00000000000000000000000000000000/MM2b3c4d5e6f708192a3b4c5d6e7f80910/"
                                "ME3c4d5e6f708192a3b4c5d6e7f8091011")  # fmt: skip
    assert (message.media.mime_type, message.media.caption) == ("image/jpeg", "Our house")


@pytest.mark.parametrize(
    ("mime", "kind"),
    [("image/png", MessageType.IMAGE), ("image/webp", MessageType.STICKER), ("video/mp4", MessageType.VIDEO),
     ("audio/ogg", MessageType.AUDIO), ("application/pdf", MessageType.DOCUMENT)],
)  # fmt: skip
def test_the_media_type_decides_the_message_kind(mime, kind):
    params = {**inbound(message_sid="MM" + "1" * 32), **media(message_sid="MM" + "1" * 32, mime_type=mime)}
    assert only(urlencode(params).encode()).type == kind


def test_a_media_url_on_another_host_path_gives_no_media_id_to_download():
    params = {**inbound(), "NumMedia": "1", "MediaContentType0": "image/jpeg",
              "MediaUrl0": "https://evil.example/steal"}  # fmt: skip
    message = only(urlencode(params).encode())
    assert (message.type, message.media) == (MessageType.IMAGE, None)


def test_a_location_becomes_a_location_with_its_coordinates_and_label():
    message = only(payload("inbound_location"))
    assert message.type == MessageType.LOCATION
    assert message.text == "[Location] Our office, Bandra Kurla Complex, Mumbai (19.0760, 72.8777)"
    assert message.details == {"latitude": 19.076, "longitude": 72.8777, "name": "Our office",
                               "address": "Bandra Kurla Complex, Mumbai", "url": ""}  # fmt: skip


def test_a_button_reply_keeps_its_payload_and_the_message_it_answers():
    message = only(payload("inbound_button"))
    assert message.type == MessageType.BUTTON
    assert (message.details["payload"], message.details["text"], message.text) == (
        "CALL_ME",
        "Call me",
        "Call me",
    )
    assert message.context is not None
    assert message.context.replied_to == "SM00000000000000000000000000000001"


def test_a_user_known_only_by_business_scoped_id_is_identified_by_it():
    message = only(payload("inbound_bsuid_only"))
    assert (message.contact.wa_id, message.contact.user_id, message.contact.username) == (
        "", "IN.13491208655302741918", "ravi.k")  # fmt: skip


@pytest.mark.parametrize(
    ("word", "status"),
    [("sent", DeliveryStatus.SENT), ("delivered", DeliveryStatus.DELIVERED), ("read", DeliveryStatus.READ),
     ("failed", DeliveryStatus.FAILED), ("undelivered", DeliveryStatus.FAILED),
     ("canceled", DeliveryStatus.FAILED), ("partially_delivered", DeliveryStatus.UNKNOWN)],
)  # fmt: skip
def test_status_words_map_onto_ours(word, status):
    update = only(urlencode(status_callback("SM" + "2" * 32, word)).encode())
    assert isinstance(update, MessageStatus)
    assert (update.wamid, update.status, update.timestamp) == ("SM" + "2" * 32, status, AT)
    assert (update.business.phone_number_id, update.recipient_id) == (OUR_NUMBER, "919876543210")


@pytest.mark.parametrize("word", ["queued", "sending", "accepted", "scheduled"])
def test_twilios_pre_send_steps_are_no_update(word):
    assert parser.parse(urlencode(status_callback("SM" + "2" * 32, word)).encode(), received_at=AT) == []


def test_an_undelivered_status_carries_twilios_error_code():
    update = only(payload("status_undelivered"))
    assert update.status == DeliveryStatus.FAILED
    assert update.errors[0].code == "63016"
    assert "outside the allowed window" in update.errors[0].message


def test_a_body_without_a_message_sid_is_not_twilios():
    with pytest.raises(PermanentError, match="no MessageSid"):
        parser.parse(b"Body=hello&From=whatsapp%3A%2B1", received_at=AT)


# --- the same pipeline: leads, attribution, routing, statuses ------------------------------------------------


@pytest.mark.django_db
def test_a_signed_twilio_ctwa_message_becomes_an_attributed_assigned_lead_once(
    client, twilio, broker, django_capture_on_commit_callbacks
):
    campaign = campaign_with_team(reps=1)
    body = payload("inbound_ctwa")
    event = received(client, body, django_capture_on_commit_callbacks)
    again = received(client, body, django_capture_on_commit_callbacks)  # Twilio retried

    assert (event.status, again.status) == ("processed", "processed")
    lead = Lead.objects.get()
    assert (lead.wa_id, lead.phone, lead.name) == ("919876543210", "+919876543210", "Asha Verma")
    assert (lead.campaign, lead.source_ad_id) == (campaign, AD_ID)
    assert lead.ctwa_clid.startswith("ARAkLkA8rmlFeiCktEJQ")
    assert lead.owner == campaign.members.get().user
    message = Message.objects.get()
    assert (message.wamid, message.conversation.provider, message.conversation.phone_number_id) == (
        "SM5a1c0e1f2b3c4d5e6f708192a3b4c5d6", "twilio", OUR_NUMBER)  # fmt: skip
    assert message.timestamp == event.received_at  # Twilio sends no time: when it reached us


def twilio_thread(*, hours_ago: float = 1.0, **lead):
    at = timezone.now() - timedelta(hours=hours_ago)
    row = LeadFactory(last_message_at=at, **lead)
    conversation = ConversationFactory(lead=row, provider="twilio", phone_number_id=OUR_NUMBER,
                                       display_phone_number=OUR_NUMBER, last_inbound_at=at, last_message_at=at,
                                       started_at=at, inbound_count=1, message_count=1)  # fmt: skip
    MessageFactory(conversation=conversation, timestamp=at, wamid="SM" + "9" * 32)
    return row, conversation


def sent_message(conversation, sid: str = "SM00000000000000000000000000000001") -> Message:
    return MessageFactory(conversation=conversation, wamid=sid, direction=Message.Direction.OUTBOUND,
                          status=Message.Status.SENT, send_state=Message.SendState.ACCEPTED)  # fmt: skip


@pytest.mark.django_db
def test_status_callbacks_only_move_a_message_forward(
    client, twilio, broker, django_capture_on_commit_callbacks
):
    _, conversation = twilio_thread()
    message = sent_message(conversation)
    read = urlencode(status_callback(message.wamid, "read")).encode()
    received(client, read, django_capture_on_commit_callbacks)
    received(client, payload("status_delivered"), django_capture_on_commit_callbacks)  # late, out of order
    message.refresh_from_db()
    assert message.status == "read"
    assert message.delivered_at is not None


@pytest.mark.django_db
def test_an_undelivered_callback_fails_the_message_with_twilios_code_in_words(
    client, twilio, broker, django_capture_on_commit_callbacks
):
    _, conversation = twilio_thread()
    message = sent_message(conversation)
    received(client, payload("status_undelivered"), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "63016")
    assert "24-hour window is closed" in message.error_words


# --- sending through the Messages API ---------------------------------------------------------------------


def deliver(lead, **send) -> Message:
    queued = outbox.queue_send(lead, **send)
    assert isinstance(queued, Message), queued
    outbox.deliver(queued.pk)
    queued.refresh_from_db()
    return queued


@pytest.mark.django_db
def test_a_reply_goes_to_twilios_messages_api_and_its_sid_becomes_the_message_id(fake, settings):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "TWILIO_PUBLIC_URL": "https://crm.example.com/whatsapp/webhook/twilio/",
    }
    lead, _ = twilio_thread(wa_id="919876543210")
    message = deliver(lead, kind="text", content={"body": "Hi Asha, calling you at 5?"})

    assert (message.send_state, message.wamid) == ("accepted", "SM" + f"{1:032x}")
    (form,) = fake.sends()
    assert form == {"From": f"whatsapp:{OUR_NUMBER}", "To": "whatsapp:+919876543210",
                    "Body": "Hi Asha, calling you at 5?",
                    "StatusCallback": "https://crm.example.com/whatsapp/webhook/twilio/"
                                      f"?wl_callback=wl-outbox%3A{message.pk}"}  # fmt: skip
    assert fake.requests[0].path == "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"


@pytest.mark.django_db
def test_a_template_goes_by_its_content_sid_with_its_variables(fake, settings):
    from tests.support.outbound import approved_template

    approved_template("loan_offer", language="en_US")
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "TWILIO_CONTENT_SIDS": {"loan_offer:en_US": "HX" + "a" * 32},
    }
    lead, _ = twilio_thread(hours_ago=30)  # the window is closed: a template is what may go
    message = deliver(lead, kind="template", content={"name": "loan_offer", "language": "en_US",
                                                      "parameters": ["Asha", "8.4%"]})  # fmt: skip

    assert message.send_state == "accepted"
    (form,) = fake.sends()
    assert (form["ContentSid"], form["ContentVariables"]) == ("HX" + "a" * 32, '{"1": "Asha", "2": "8.4%"}')
    assert "Body" not in form  # a template as Body fails outside the window (63016)


@pytest.mark.django_db
def test_a_template_without_a_content_sid_is_refused_in_words_without_calling_twilio(fake):
    from tests.support.outbound import approved_template

    approved_template("loan_offer", language="en_US")
    lead, _ = twilio_thread(hours_ago=30)
    message = deliver(lead, kind="template", content={"name": "loan_offer", "language": "en_US",
                                                      "parameters": ["Asha", "8.4%"]})  # fmt: skip
    assert message.send_state == "refused"
    assert "TWILIO_CONTENT_SIDS" in message.error_words
    assert fake.sends() == []


@pytest.mark.django_db
def test_twilios_window_refusal_is_final_and_in_words(fake):
    fake.queue(
        twilio_error(63016, "Failed to send freeform message because you are outside the allowed window.")
    )
    lead, _ = twilio_thread()
    message = deliver(lead, kind="text", content={"body": "Hello again"})
    assert (message.send_state, message.status, message.error_code) == ("refused", "failed", "63016")
    assert "24-hour window is closed" in message.error_words


@pytest.mark.django_db
@pytest.mark.parametrize("reply", [twilio_error(20429, "Too Many Requests", status=429),
                                   Reply(status=503, raw=b"<html>Service Unavailable</html>")])  # fmt: skip
def test_throttling_and_server_errors_are_retried(fake, reply):
    fake.queue(reply)
    lead, _ = twilio_thread()
    message = deliver(lead, kind="text", content={"body": "Hello"})
    assert message.send_state == "retrying"
    outbox.deliver(message.pk)
    message.refresh_from_db()
    assert message.send_state == "accepted"
    assert len(fake.sends()) == 2


@pytest.mark.django_db
def test_wrong_credentials_are_refused_for_an_admin_to_fix(fake, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "TWILIO_AUTH_TOKENS": ["expired"]}
    lead, _ = twilio_thread()
    message = deliver(lead, kind="text", content={"body": "Hello"})
    assert (message.send_state, message.error_code) == ("refused", "20003")
    assert "credentials" in message.error_words


@pytest.mark.django_db
def test_an_answer_lost_after_the_request_went_out_is_never_sent_again_by_itself(fake, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "SEND_TIMEOUT_SECONDS": (2.0, 0.3)}
    fake.queue(Reply(status=201, body={"sid": "SM" + "f" * 32}, delay=1.0))
    lead, _ = twilio_thread()
    message = deliver(lead, kind="text", content={"body": "Hello"})
    assert message.send_state == "unknown"
    assert "cannot tell whether the message went out" in message.error_words


@pytest.mark.django_db
def test_twilio_unreachable_is_retried(settings, twilio):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "TWILIO_API_URL": "http://127.0.0.1:9",
                               "SEND_RATE_BACKEND": "database"}  # fmt: skip
    lead, _ = twilio_thread()
    message = deliver(lead, kind="text", content={"body": "Hello"})
    assert message.send_state == "retrying"


@pytest.mark.django_db
def test_reply_buttons_are_refused_in_words_without_calling_twilio(fake):
    lead, _ = twilio_thread()
    message = deliver(
        lead, kind="buttons", content={"body": "Pick one", "buttons": [{"id": "a", "title": "A"}]}
    )
    assert message.send_state == "refused"
    assert "Content API template" in message.error_words
    assert fake.sends() == []


# --- media ---------------------------------------------------------------------------------------------


def image_message(fake: FakeTwilio) -> Message:
    _, conversation = twilio_thread()
    media_id = f"{fake.account_sid}/MM{'3' * 32}/ME{'4' * 32}"
    return MessageFactory(conversation=conversation, type="image", media_id=media_id,
                          media_mime_type="image/jpeg", media_status=Message.MediaStatus.PENDING)  # fmt: skip


@pytest.mark.django_db
def test_an_image_is_downloaded_with_the_accounts_credentials_through_twilios_redirect(fake):
    fake.add_file("ME" + "4" * 32, b"\xff\xd8jpeg-bytes", content_type="image/jpeg")
    message = image_message(fake)

    assert media_service.download_media(message.pk).status == "downloaded"
    message.refresh_from_db()
    with message.media_file.open("rb") as handle:
        assert handle.read() == b"\xff\xd8jpeg-bytes"
    api, file_host = fake.requests
    assert api.path.endswith(f"/Messages/MM{'3' * 32}/Media/ME{'4' * 32}")
    assert api.headers["Authorization"].startswith("Basic ")
    assert file_host.path == f"/files/ME{'4' * 32}"


@pytest.mark.django_db
def test_a_redirect_to_a_plain_http_host_elsewhere_is_refused(fake):
    fake.queue(Reply(status=307, raw=b"", headers={"Location": "http://files.example.net/x.jpg"}))
    provider = get_provider("twilio")
    with pytest.raises(MediaError, match="not https") as refused:
        provider.fetch_media(
            f"{fake.account_sid}/MM{'3' * 32}/ME{'4' * 32}", into=io.BytesIO(), max_bytes=1000
        )
    assert refused.value.retryable is False


@pytest.mark.django_db
def test_a_deleted_file_and_a_file_over_the_limit_are_not_retried(fake):
    provider = get_provider("twilio")
    with pytest.raises(MediaError, match="deleted") as gone:
        provider.fetch_media(
            f"{fake.account_sid}/MM{'3' * 32}/ME{'5' * 32}", into=io.BytesIO(), max_bytes=1000
        )
    fake.add_file("ME" + "6" * 32, b"x" * 2000)
    with pytest.raises(MediaError, match="MEDIA_MAX_BYTES") as big:
        provider.fetch_media(
            f"{fake.account_sid}/MM{'3' * 32}/ME{'6' * 32}", into=io.BytesIO(), max_bytes=1000
        )
    assert (gone.value.retryable, big.value.retryable) == (False, False)


# --- system checks ----------------------------------------------------------------------------------------


def twilio_ids() -> set[str]:
    return {i.id for i in run_checks() if i.id in {"whatsapp_leads.W008", "whatsapp_leads.W009",
                                                   "whatsapp_leads.W010", "whatsapp_leads.E016"}}  # fmt: skip


def test_twilio_settings_are_not_checked_while_twilio_is_not_enabled():
    assert twilio_ids() == set()


def test_twilio_enabled_without_settings_is_told_which_to_set(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "PROVIDERS": [META, TWILIO]}
    issues = {i.id: i for i in run_checks()}
    assert twilio_ids() == {"whatsapp_leads.W008", "whatsapp_leads.W009", "whatsapp_leads.W010"}
    assert "TWILIO_AUTH_TOKEN" in issues["whatsapp_leads.W008"].hint
    assert "TWILIO_ACCOUNT_SID and TWILIO_WHATSAPP_FROM" in issues["whatsapp_leads.W009"].msg


def test_a_malformed_public_url_or_sender_is_an_error_naming_the_setting(settings, twilio):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "TWILIO_PUBLIC_URL": "crm.example.com/hook",
                               "TWILIO_WHATSAPP_FROM": "14155550199"}  # fmt: skip
    errors = [i for i in run_checks() if i.id == "whatsapp_leads.E016"]
    assert len(errors) == 2
    assert any("TWILIO_PUBLIC_URL" in e.msg for e in errors)
    assert any("TWILIO_WHATSAPP_FROM" in e.msg for e in errors)


# --- whatsapp_simulate --provider twilio ---------------------------------------------------------------


def simulate(*args: str) -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("whatsapp_simulate", "--provider", "twilio", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_simulated_twilio_ad_click_is_signed_stored_and_becomes_a_lead_with_its_ad(live_server, twilio):
    campaign = campaign_with_team(reps=1)
    output = simulate("--url", f"{live_server.url}{URL}", "--ad-id", AD_ID, "--name", "Asha",
                      "--phone", "+91 98765 43210", "--text", "Hi from Twilio")  # fmt: skip

    assert "HTTP 200" in output
    event = WebhookEvent.objects.get()
    assert (event.provider, event.headers["content-type"]) == ("twilio", FORM)
    assert process_event(event.pk).status == "processed"
    lead = Lead.objects.get()
    assert (lead.phone, lead.first_message, lead.campaign) == ("+919876543210", "Hi from Twilio", campaign)


@pytest.mark.django_db(transaction=True)
def test_simulated_twilio_status_with_an_error_code_fails_the_message(live_server, twilio):
    _, conversation = twilio_thread()
    message = sent_message(conversation)
    simulate("--url", f"{live_server.url}{URL}", "--status-of", message.wamid, "--status", "undelivered",
             "--error-code", "63016")  # fmt: skip
    process_event(WebhookEvent.objects.get().pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "63016")


@pytest.mark.django_db(transaction=True)
def test_simulated_twilio_post_with_a_wrong_token_shows_the_403(live_server, twilio):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="HTTP 403") as refused:
        simulate("--url", f"{live_server.url}{URL}", "--secret", "not-the-token")
    assert "TWILIO_AUTH_TOKEN" in str(refused.value)
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_behind_a_proxy_the_query_string_twilio_called_is_part_of_the_signed_url(client, twilio, settings):
    public = "https://crm.example.com/whatsapp/webhook/twilio/"
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "TWILIO_PUBLIC_URL": public}
    body = payload("inbound_text")
    signature = signature_for(body, url=f"{public}?number=2")
    response = client.generic(
        "POST", f"{URL}?number=2", body, content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature
    )
    assert response.status_code == 200
    assert post(client, body, signature=signature).status_code == 403  # the same signature without the query
