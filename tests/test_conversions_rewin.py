"""A lead won, reopened and won again is a second sale: a second Purchase, under its own event_id.

Redelivery, re-processing, repeated triggers and saving the same win twice still send each win
once. Meta is the fake Graph API over real HTTP; the status changes go through the one service
every screen uses (``lead_status.change_status``), which writes the history the wins are read from.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from tests.support.delivery import deliver
from tests.support.world import AD_ID
from whatsapp_leads.models import ConversionEvent, Lead
from whatsapp_leads.providers.meta.simulation import WABA_ID, inbound
from whatsapp_leads.services import lead_status
from whatsapp_leads.services.conversions.mapping import event_id, wins
from whatsapp_leads.services.conversions.outbox import record_due
from whatsapp_leads.services.conversions.send import send_conversion
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db
DATASET = "1468235527318620"


@pytest.fixture(autouse=True)
def capi(fake_graph):
    fake_graph.add_dataset(WABA_ID, DATASET)
    cache.clear()
    yield fake_graph
    cache.clear()


def ad_lead(capture) -> Lead:
    with capture(execute=True):
        deliver(inbound(ad_id=AD_ID))
    return Lead.objects.get()


def change(lead: Lead, status: str, capture, *, value: str | None = None, run_triggers: bool = True) -> None:
    with capture(execute=run_triggers):
        lead_status.change_status(lead, status=status, deal_value=Decimal(value) if value else None,
                                  deal_currency="INR" if value else "")  # fmt: skip


def send_all() -> None:
    for pk in ConversionEvent.objects.filter(status="pending").values_list("pk", flat=True):
        send_conversion(pk)


def purchases_at_meta(capi) -> list[tuple[str, float]]:
    return [
        (e["event_id"], e["custom_data"]["value"])
        for e in capi.events_at(DATASET)
        if e["event_name"] == "Purchase"
    ]


def test_won_reopened_and_won_again_sends_a_second_purchase_with_the_new_deal(
    capi, broker, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    lead = ad_lead(capture)
    change(lead, "won", capture, value="100000")
    send_all()
    change(lead, "contacted", capture)  # reopened: a new deal is being discussed
    change(lead, "won", capture, value="250000")
    send_all()

    assert purchases_at_meta(capi) == [(f"lead-{lead.pk}-Purchase", 100000.0),
                                       (f"lead-{lead.pk}-Purchase-2", 250000.0)]  # fmt: skip
    names = sorted(ConversionEvent.objects.values_list("event_name", flat=True))
    assert names == ["LeadSubmitted", "Purchase", "Purchase"]  # the other stages stay once per lead


def test_after_a_second_win_redelivery_reprocessing_and_saving_again_send_nothing_more(
    capi, broker, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    payload = inbound(ad_id=AD_ID)
    with capture(execute=True):
        event = deliver(payload)
    lead = Lead.objects.get()
    change(lead, "won", capture, value="100")
    change(lead, "lost", capture)
    change(lead, "won", capture, value="200")
    with capture(execute=True):
        deliver(payload)  # Meta redelivers the first message
        process_event(event.pk)  # an operator re-processes it
        lead_status.change_status(lead, status="won", deal_value=Decimal("200"))  # clicked Won again
        lead.refresh_from_db()
        lead.save()  # the admin saves the won lead again
    for _ in range(3):
        record_due(lead.pk)
    rows = list(ConversionEvent.objects.filter(event_name="Purchase").values_list("pk", flat=True))
    for pk in rows * 2:  # every task delivered twice
        send_conversion(pk)

    assert len(rows) == 2
    assert sorted(e for e, _ in purchases_at_meta(capi)) == [
        f"lead-{lead.pk}-Purchase",
        f"lead-{lead.pk}-Purchase-2",
    ]


def test_a_win_whose_trigger_ran_only_after_a_reopen_and_a_second_win_is_still_reported_with_its_own_deal(
    capi, broker, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    lead = ad_lead(capture)
    change(lead, "won", capture, value="100", run_triggers=False)  # the trigger was lost
    change(lead, "contacted", capture, run_triggers=False)
    change(lead, "won", capture, value="300")
    rows = ConversionEvent.objects.filter(event_name="Purchase").order_by("event_id")
    assert [(r.event_id, r.value) for r in rows] == [(f"lead-{lead.pk}-Purchase", Decimal("100")),
                                                     (f"lead-{lead.pk}-Purchase-2", Decimal("300"))]  # fmt: skip
    first, second = rows
    assert first.event_time < second.event_time
    send_all()  # the first win keeps its own deal when sent, not the lead's current one
    assert sorted(purchases_at_meta(capi)) == [(f"lead-{lead.pk}-Purchase", 100.0),
                                               (f"lead-{lead.pk}-Purchase-2", 300.0)]  # fmt: skip


def test_a_lead_won_without_history_has_one_win_and_a_lead_not_won_none(django_capture_on_commit_callbacks):
    lead = ad_lead(django_capture_on_commit_callbacks)
    assert wins(lead) == []
    lead.status = Lead.Status.WON  # a host's code setting the status directly: no history row
    assert [w.number for w in wins(lead)] == [1]
    assert event_id(lead, event_name="Purchase", win=1) == f"lead-{lead.pk}-Purchase"
    assert event_id(lead, event_name="Purchase", win=3) == f"lead-{lead.pk}-Purchase-3"
