"""Issue 3: ``user_preferences`` stop / resume sets the lead's marketing consent, newest choice wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.delivery import deliver as process_ok
from tests.support.kinds_support import USER_BSUID, USER_WA_ID, load, value
from whatsapp_leads.models import AccountEvent, Lead, LeadHistory
from whatsapp_leads.providers.meta.simulation import inbound

pytestmark = pytest.mark.django_db

STOP_AT = 1749416383  # the fixture's integer timestamp


def preference(choice: str = "stop", *, at: int | str = STOP_AT, **ids: str) -> dict:
    payload = load("user_preferences")
    item = value(payload)["user_preferences"][0]
    item.update(value=choice, timestamp=at, detail=f"User requested to {choice} marketing messages")
    if ids:
        item.pop("wa_id")
        item.update(ids)
    return payload


@pytest.fixture
def lead() -> Lead:
    process_ok(inbound(wa_id=USER_WA_ID, user_id=USER_BSUID, timestamp=STOP_AT - 3600))
    return Lead.objects.get()


def test_stop_opts_the_lead_out_of_marketing_at_meta_time(lead):
    process_ok(load("user_preferences"))

    lead.refresh_from_db()
    assert lead.marketing_opt_out is True
    assert lead.marketing_opt_out_at == datetime.fromtimestamp(STOP_AT, tz=UTC)
    change = lead.history.get(kind=LeadHistory.Kind.MARKETING)
    assert (change.previous, change.current) == ("allowed", "stopped")
    assert change.detail == "User requested to stop marketing messages"


def test_resume_after_stop_opts_back_in(lead):
    process_ok(preference("stop", at=STOP_AT))
    process_ok(preference("resume", at=STOP_AT + 60))

    lead.refresh_from_db()
    assert (lead.marketing_opt_out, lead.marketing_opt_out_at) == (
        False,
        datetime.fromtimestamp(STOP_AT + 60, tz=UTC),
    )


def test_an_older_stop_arriving_after_a_newer_resume_changes_nothing(lead):
    process_ok(preference("resume", at=STOP_AT + 60))
    process_ok(preference("stop", at=STOP_AT))

    lead.refresh_from_db()
    assert lead.marketing_opt_out is False
    assert lead.marketing_opt_out_at == datetime.fromtimestamp(STOP_AT + 60, tz=UTC)
    assert lead.history.filter(kind=LeadHistory.Kind.MARKETING).count() == 1


def test_a_timestamp_sent_as_a_string_is_read_too(lead):
    process_ok(preference("stop", at=str(STOP_AT)))

    lead.refresh_from_db()
    assert lead.marketing_opt_out_at == datetime.fromtimestamp(STOP_AT, tz=UTC)


def test_a_preference_carrying_only_the_user_id_finds_the_lead(lead):
    process_ok(preference("stop", user_id=USER_BSUID))

    lead.refresh_from_db()
    assert lead.marketing_opt_out is True


def test_a_preference_from_someone_without_a_lead_is_kept_as_an_account_event():
    process_ok(load("user_preferences"))

    assert not Lead.objects.exists()
    row = AccountEvent.objects.get()
    assert (row.field, row.event) == ("user_preferences", "marketing_messages:stop")
    assert row.summary == f"Marketing stop from {USER_WA_ID}, who has no lead yet"
    assert row.payload["timestamp"] == STOP_AT


def test_a_preference_that_is_not_a_marketing_stop_or_resume_is_kept_without_touching_the_lead(lead):
    process_ok(preference("signup"))

    lead.refresh_from_db()
    assert lead.marketing_opt_out is False
    assert AccountEvent.objects.get().event == "marketing_messages:signup"
