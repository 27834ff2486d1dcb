"""Engagement metrics: kept by the services as each message is stored, per thread and per lead.

First response time is the wait the first answer *written by a person* ended; greetings never
count, echoes of the WhatsApp Business app count unless RESPONSE_ORIGINS leaves them out. Times
are kept on the wall clock and in the owner's business hours, and stay right when messages
arrive out of order.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from tests.support.engagement import echo, we_send, writes
from tests.support.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ConversationFactory,
    LeadFactory,
    MessageFactory,
    UserFactory,
)
from whatsapp_leads.models import Conversation, Lead
from whatsapp_leads.services import engagement

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=IST)  # a Tuesday, 10:00
WA = "919811100001"


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def figures(row: Lead | Conversation) -> dict:
    row.refresh_from_db()
    return engagement.summary(row)


@pytest.fixture(autouse=True)
def business_zone(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Kolkata"}


def test_first_response_is_the_first_answer_by_a_person_not_the_greeting_and_both_levels_agree():
    lead = writes(WA, at(0))
    we_send(lead, at(0, 5), origin="greeting")
    we_send(lead, at(7), origin="rep")

    lead.refresh_from_db()
    assert (lead.first_response_seconds, lead.first_response_business_seconds) == (420, 420)
    assert (lead.inbound_count, lead.outbound_count, lead.response_count) == (1, 2, 1)
    assert (lead.first_inbound_at, lead.last_inbound_at, lead.last_outbound_at) == (at(0), at(0), at(7))
    assert lead.awaiting_reply_since is None and lead.first_reply_at == at(7)
    thread = Conversation.objects.get(lead=lead)
    assert figures(thread) == figures(lead)


def test_a_greeting_alone_leaves_the_lead_waiting_and_unanswered():
    lead = writes(WA, at(0))
    we_send(lead, at(0, 2), origin="greeting")

    lead.refresh_from_db()
    assert lead.awaiting_reply_since == at(0)
    assert lead.first_response_seconds is None and lead.response_count == 0
    assert (lead.outbound_count, lead.last_outbound_at) == (1, at(0, 2))


def test_an_echo_typed_in_the_business_app_is_an_answer_by_default():
    lead = writes(WA, at(0))
    echo(WA, at(3))

    lead.refresh_from_db()
    assert lead.first_response_seconds == 180
    assert lead.awaiting_reply_since is None


def test_echoes_and_greetings_excluded_by_response_origins_do_not_answer(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "RESPONSE_ORIGINS": ["rep", "api"]}
    lead = writes(WA, at(0))
    we_send(lead, at(0, 5), origin="greeting")
    echo(WA, at(1))  # the app's automatic away message, say
    assert Lead.objects.get(pk=lead.pk).awaiting_reply_since == at(0)

    we_send(lead, at(12), origin="api")

    lead.refresh_from_db()
    assert lead.first_response_seconds == 720
    assert (lead.outbound_count, lead.response_count) == (3, 1)


def test_last_and_average_response_times_follow_every_answered_wait():
    lead = writes(WA, at(0))
    writes(WA, at(1))  # the wait runs from the earliest unanswered message
    we_send(lead, at(5))
    we_send(lead, at(6))  # a second answer with no wait running changes no time
    writes(WA, at(30))
    we_send(lead, at(31))

    lead.refresh_from_db()
    assert lead.first_response_seconds == 300
    assert (lead.last_response_seconds, lead.response_count, lead.response_seconds_total) == (60, 2, 360)
    assert lead.average_response_seconds == 180
    assert (lead.inbound_count, lead.outbound_count) == (3, 3)


def test_business_seconds_skip_the_night_in_the_owners_working_hours():
    rep = UserFactory()
    campaign = CampaignFactory()
    CampaignMemberFactory(
        campaign=campaign, user=rep, work_days="12345", work_start=time(9), work_end=time(18)
    )
    LeadFactory(wa_id=WA, phone=f"+{WA}", owner=rep, campaign=campaign)
    tuesday_evening = datetime(2026, 11, 24, 17, 55, tzinfo=IST)
    lead = writes(WA, tuesday_evening)
    we_send(lead, datetime(2026, 11, 25, 9, 5, tzinfo=IST))

    lead.refresh_from_db()
    assert lead.first_response_seconds == 15 * 3600 + 10 * 60
    assert lead.first_response_business_seconds == 10 * 60


def test_business_seconds_skip_a_weekend():
    rep = UserFactory()
    campaign = CampaignFactory()
    CampaignMemberFactory(
        campaign=campaign, user=rep, work_days="12345", work_start=time(9), work_end=time(18)
    )
    LeadFactory(wa_id=WA, phone=f"+{WA}", owner=rep, campaign=campaign)
    friday = datetime(2026, 11, 27, 17, 50, tzinfo=IST)
    lead = writes(WA, friday)
    we_send(lead, datetime(2026, 11, 30, 9, 10, tzinfo=IST))  # Monday

    lead.refresh_from_db()
    assert lead.first_response_business_seconds == 20 * 60
    assert lead.first_response_seconds == (datetime(2026, 11, 30, 9, 10, tzinfo=IST) - friday).total_seconds()


def test_an_owner_without_working_hours_counts_around_the_clock():
    lead = writes(WA, datetime(2026, 11, 24, 23, 0, tzinfo=IST))
    we_send(lead, datetime(2026, 11, 25, 1, 0, tzinfo=IST))

    lead.refresh_from_db()
    assert lead.first_response_seconds == lead.first_response_business_seconds == 7200


# --- out of order -------------------------------------------------------------------------------


def test_a_late_older_inbound_message_moves_the_first_response_back_to_it():
    lead = writes(WA, at(2), text="second")
    we_send(lead, at(10))
    writes(WA, at(0), text="first, delivered late")

    lead.refresh_from_db()
    assert lead.first_inbound_at == at(0)
    assert lead.first_response_seconds == 600
    assert (lead.inbound_count, lead.response_count, lead.awaiting_reply_since) == (2, 1, None)
    assert figures(Conversation.objects.get(lead=lead)) == figures(lead)


def test_a_late_answer_older_than_the_latest_message_is_put_in_its_place():
    lead = writes(WA, at(0))
    writes(WA, at(20))
    echo(WA, at(1))  # typed at 1 min, its webhook arrives after the message at 20 min

    lead.refresh_from_db()
    assert lead.first_response_seconds == 60
    assert lead.awaiting_reply_since == at(20)  # the later message is still unanswered
    assert (lead.inbound_count, lead.outbound_count) == (2, 1)


def test_any_arrival_order_converges_on_the_same_figures():
    in_order = writes("919811100002", at(0))
    we_send(in_order, at(3))
    writes("919811100002", at(9))
    we_send(in_order, at(10))

    shuffled = writes(WA, at(9))
    we_send(shuffled, at(3))
    we_send(shuffled, at(10))
    writes(WA, at(0))

    assert figures(shuffled) == figures(in_order)


# --- the rebuild command ----------------------------------------------------------------------------


def test_whatsapp_rebuild_metrics_fills_the_figures_of_rows_stored_before_they_existed():
    lead = LeadFactory()
    thread = ConversationFactory(lead=lead)
    MessageFactory(conversation=thread, timestamp=at(0))
    MessageFactory(conversation=thread, timestamp=at(4), direction="outbound", origin="greeting")
    MessageFactory(conversation=thread, timestamp=at(5), direction="outbound", origin="rep")
    MessageFactory(conversation=thread, timestamp=at(8))
    untouched = LeadFactory()  # no messages: nothing to count

    out = StringIO()
    call_command("whatsapp_rebuild_metrics", "--batch-size", "1", stdout=out)

    lead.refresh_from_db()
    assert (lead.first_response_seconds, lead.inbound_count, lead.outbound_count) == (300, 2, 2)
    assert (lead.first_inbound_at, lead.last_outbound_at, lead.awaiting_reply_since) == (at(0), at(5), at(8))
    assert figures(thread) == figures(lead)
    assert Lead.objects.get(pk=untouched.pk).inbound_count == 0
    text = out.getvalue()
    assert "1/2 leads" in text and "2/2 leads" in text
    assert text.strip().endswith("Done: 2 lead(s) recomputed, 1 changed.")

    again = StringIO()
    call_command("whatsapp_rebuild_metrics", stdout=again)
    assert again.getvalue().strip().endswith("Done: 2 lead(s) recomputed, 0 changed.")


def test_whatsapp_rebuild_metrics_can_take_one_campaign_and_refuses_a_zero_batch():
    mine, theirs = CampaignFactory(), CampaignFactory()
    for campaign in (mine, theirs):
        MessageFactory(conversation=ConversationFactory(lead=LeadFactory(campaign=campaign)), timestamp=at(0))

    call_command("whatsapp_rebuild_metrics", "--campaign", str(mine.pk), stdout=StringIO())

    assert list(Lead.objects.filter(inbound_count=1).values_list("campaign", flat=True)) == [mine.pk]
    with pytest.raises(Exception, match="batch-size"):
        call_command("whatsapp_rebuild_metrics", "--batch-size", "0")


# --- the REST API -------------------------------------------------------------------------------------


def test_the_api_lists_and_details_the_engagement_figures_read_only(rep):
    from rest_framework.test import APIClient

    LeadFactory(wa_id=WA, phone=f"+{WA}", owner=rep)
    lead = writes(WA, at(0))
    we_send(lead, at(0, 5), origin="greeting")
    we_send(lead, at(4))
    writes(WA, at(9))
    client = APIClient()
    client.force_authenticate(rep)

    (row,) = client.get("/whatsapp/api/leads/").json()["results"]
    detail = client.get(f"/whatsapp/api/leads/{lead.pk}/").json()

    expected = {
        "first_response_seconds": 240,
        "first_response_business_seconds": 240,
        "awaiting_reply_since": at(9).isoformat(),
        "inbound_count": 2,
        "outbound_count": 2,
        "last_inbound_at": at(9).isoformat(),
        "last_outbound_at": at(4).isoformat(),
    }
    for name in expected:
        assert datetime_or_value(row[name]) == datetime_or_value(expected[name]), name
        assert detail[name] == row[name]
    assert (detail["response_count"], detail["average_response_seconds"], detail["sla_due_at"]) == (
        1,
        240,
        None,
    )
    refused = client.patch(f"/whatsapp/api/leads/{lead.pk}/", {"inbound_count": 0}, format="json")
    assert refused.status_code == 400
    assert Lead.objects.get(pk=lead.pk).inbound_count == 2


def datetime_or_value(value):
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed or value
