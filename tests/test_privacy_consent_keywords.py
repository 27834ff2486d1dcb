"""STOP / START: a message that is exactly an opt-out word stops marketing, as Meta's user_preferences does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.delivery import deliver
from tests.support.world import T0
from whatsapp_leads.models import Lead, LeadHistory
from whatsapp_leads.providers.meta.simulation import inbound

pytestmark = pytest.mark.django_db

WA = "919876543210"


def says(text: str, minute: int) -> Lead:
    deliver(inbound(wa_id=WA, text=text, timestamp=T0 + minute * 60))
    return Lead.objects.get(wa_id=WA)


@pytest.mark.parametrize("word", ["STOP", "stop", "  Stop! ", "UNSUBSCRIBE", "बंद", "बंद करें।", "रोकें"])
def test_an_opt_out_word_alone_stops_marketing_at_the_messages_time(word):
    says("Hi", 0)

    lead = says(word, 1)

    assert lead.marketing_opt_out is True
    assert lead.marketing_opt_out_at == datetime.fromtimestamp(T0 + 60, tz=UTC)
    change = lead.history.get(kind=LeadHistory.Kind.MARKETING)
    assert (change.previous, change.current) == ("allowed", "stopped")
    assert change.detail.startswith("User wrote ")


def test_start_resumes_marketing():
    says("STOP", 0)

    lead = says("start", 1)

    assert lead.marketing_opt_out is False
    assert list(lead.history.filter(kind="marketing").values_list("current", flat=True).order_by("pk")) == [
        "stopped",
        "allowed",
    ]


@pytest.mark.parametrize("text", ["please stop calling me at work", "stopping by tomorrow", "STOP IT NOW"])
def test_a_sentence_containing_stop_changes_nothing(text):
    lead = says(text, 0)

    assert lead.marketing_opt_out is False
    assert not lead.history.filter(kind=LeadHistory.Kind.MARKETING).exists()


def test_an_older_stop_delivered_after_a_newer_start_changes_nothing():
    says("START", 5)

    lead = says("STOP", 1)

    assert lead.marketing_opt_out is False


def test_the_keyword_lists_are_configurable(settings):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "OPT_OUT_KEYWORDS": ["NO MORE"],
        "OPT_IN_KEYWORDS": ["YES"],
    }

    assert says("stop", 0).marketing_opt_out is False
    assert says("no   more", 1).marketing_opt_out is True
    assert says("yes", 2).marketing_opt_out is False
