"""The SLA state of a lead (services/sla_state.py): a pure function of stored fields and ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from whatsapp_leads.models import Campaign, Lead
from whatsapp_leads.services.sla_state import NEAR_FRACTION, SlaState, sla_status
from whatsapp_leads.templatetags.whatsapp_leads_numbers import human_seconds, wl_duration, wl_percent

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
TEN_MIN = timedelta(minutes=10)


def campaign(sla: timedelta | None = TEN_MIN, clock: str = "wall") -> Campaign:
    return Campaign(name="Loans", first_response_sla=sla, sla_clock=clock)


def lead(**fields) -> Lead:
    return Lead(**fields)


def test_no_sla_on_the_campaign_or_no_campaign_means_no_state():
    assert sla_status(lead(sla_due_at=NOW), now=NOW, campaign=campaign(sla=None)).state is SlaState.NONE
    assert sla_status(lead(sla_due_at=NOW), now=NOW).state is SlaState.NONE  # no campaign at all


def test_a_wait_is_within_then_near_in_its_last_quarter_then_breached_at_the_due_moment():
    due = NOW + TEN_MIN * NEAR_FRACTION
    c = campaign()
    early = sla_status(lead(sla_due_at=due + timedelta(seconds=1)), now=NOW, campaign=c)
    assert early.state is SlaState.WITHIN and early.left == TEN_MIN * NEAR_FRACTION + timedelta(seconds=1)
    assert sla_status(lead(sla_due_at=due), now=NOW, campaign=c).state is SlaState.NEAR
    at_due = sla_status(lead(sla_due_at=NOW), now=NOW, campaign=c)
    assert at_due.state is SlaState.BREACHED and at_due.over == timedelta(0)
    late = sla_status(lead(sla_due_at=NOW - timedelta(minutes=3)), now=NOW, campaign=c)
    assert late.state is SlaState.BREACHED and late.over == timedelta(minutes=3)


def test_near_is_a_quarter_of_the_sla_not_of_a_nights_wall_time():
    """A business-time SLA due tomorrow morning is within all night, whatever the wall-clock span."""
    status = sla_status(
        lead(sla_due_at=NOW + timedelta(hours=10)), now=NOW, campaign=campaign(clock="business")
    )
    assert status.state is SlaState.WITHIN


def test_a_breach_applied_by_the_checker_stays_breached_until_answered():
    c = campaign()
    breached = lead(sla_due_at=None, sla_breached_at=NOW - timedelta(minutes=1))
    status = sla_status(breached, now=NOW, campaign=c)
    assert status.state is SlaState.BREACHED and status.over is None


def test_a_reassigned_lead_runs_on_its_fresh_clock():
    fresh = lead(sla_breached_at=NOW - timedelta(minutes=1), sla_due_at=NOW + timedelta(minutes=9))
    assert sla_status(fresh, now=NOW, campaign=campaign()).state is SlaState.WITHIN


def test_answered_leads_are_met_or_late_in_the_campaigns_clock():
    answered = {"first_reply_at": NOW, "first_response_seconds": 3600, "first_response_business_seconds": 300}
    assert sla_status(lead(**answered), now=NOW, campaign=campaign(clock="business")).state is SlaState.MET
    assert sla_status(lead(**answered), now=NOW, campaign=campaign(clock="wall")).state is SlaState.LATE
    breached_then_fast = lead(**answered, sla_breached_at=NOW)
    assert sla_status(breached_then_fast, now=NOW, campaign=campaign(clock="business")).state is SlaState.LATE
    # No business figure kept (answered before business time was measured): the wall figure judges.
    old = lead(first_reply_at=NOW, first_response_seconds=120)
    assert sla_status(old, now=NOW, campaign=campaign(clock="business")).state is SlaState.MET
    # Answered before any metrics were kept: nothing to judge by.
    assert sla_status(lead(first_reply_at=NOW), now=NOW, campaign=campaign()).state is SlaState.NONE


def test_unanswered_without_a_started_clock_has_no_state():
    assert sla_status(lead(), now=NOW, campaign=campaign()).state is SlaState.NONE


@pytest.mark.parametrize("state", list(SlaState))
def test_every_state_but_none_has_words_and_a_symbol_besides_its_colour(state):
    from whatsapp_leads.services.sla_state import SlaStatus

    status = SlaStatus(state)
    assert status.css == f"wl-sla-{state.value}"
    assert bool(status.words) == bool(status.icon) == (state is not SlaState.NONE)


def test_durations_and_ratios_read_as_people_read_them():
    assert [human_seconds(s) for s in (None, 45, 150, 600, 3900, 90000, 86400)] == [
        "-", "45 s", "2 min 30 s", "10 min", "1 h 5 min", "1 d 1 h", "1 d",
    ]  # fmt: skip
    assert human_seconds(7200) == "2 h"
    assert wl_duration(timedelta(minutes=7)) == "7 min"
    assert wl_percent(None) == "-" and wl_percent(0.5) == "50.0%"
