"""Conversions API for business messaging: the outbox records each (lead, event) once and sends it
to Meta (a fake Graph API over real HTTP) with the body Meta documents, retrying only what may pass."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from tests.support.delivery import deliver
from tests.support.factories import ConversationFactory, LeadFactory
from tests.support.fake_graph import rate_limited, server_error
from tests.support.world import AD_ID
from whatsapp_leads.models import ConversionEvent, Lead
from whatsapp_leads.providers.meta.simulation import WABA_ID, inbound, referral
from whatsapp_leads.queueing import SEND_CONVERSION
from whatsapp_leads.services.conversions.outbox import queue_lost, record_due, resend
from whatsapp_leads.services.conversions.send import send_conversion
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db
DATASET = "1468235527318620"
CLID = referral()["ctwa_clid"]
Status = ConversionEvent.Status


@pytest.fixture(autouse=True)
def capi(fake_graph, settings):
    """The fake knows the WABA's dataset; the dataset cache starts empty."""
    fake_graph.add_dataset(WABA_ID, DATASET)
    cache.clear()
    yield fake_graph
    cache.clear()


def queued_sends(broker) -> list[int]:
    return [args[0] for task, args in broker() if task == SEND_CONVERSION]


def ad_lead(django_capture_on_commit_callbacks, **kwargs) -> Lead:
    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbound(ad_id=AD_ID, **kwargs))
    return Lead.objects.get()


def mark_won(
    lead: Lead, django_capture_on_commit_callbacks, *, value: str | None = None, currency: str = ""
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        lead.status = Lead.Status.WON
        lead.deal_value = Decimal(value) if value is not None else None
        lead.deal_currency = currency
        lead.save()


def test_ad_lead_sends_one_lead_submitted_event_with_the_body_meta_documents(
    capi, broker, django_capture_on_commit_callbacks
):
    lead = ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    assert (row.event_name, row.stage, row.status) == ("LeadSubmitted", "lead_created", Status.PENDING)
    assert queued_sends(broker) == [row.pk]

    assert send_conversion(row.pk).status == Status.SENT

    [event] = capi.events_at(DATASET)
    assert event == {
        "event_name": "LeadSubmitted",
        "event_time": int(lead.first_touch_at.timestamp()),
        "event_id": f"lead-{lead.pk}-LeadSubmitted",
        "action_source": "business_messaging",
        "messaging_channel": "whatsapp",
        "user_data": {"whatsapp_business_account_id": WABA_ID, "ctwa_clid": CLID},
    }
    [post] = [r for r in capi.requests if r.method == "POST"]
    assert post.path == f"/{capi.version}/{DATASET}/events"
    assert set(post.json) == {"data"}  # no test_event_code unless configured
    row.refresh_from_db()
    assert row.events_received == 1 and row.fbtrace_id and row.sent_at and row.error == ""
    assert row.response["events_received"] == 1


def test_won_lead_sends_purchase_with_its_deal_value_and_currency(capi, django_capture_on_commit_callbacks):
    lead = ad_lead(django_capture_on_commit_callbacks)
    mark_won(lead, django_capture_on_commit_callbacks, value="125000.50", currency="inr")

    purchase = ConversionEvent.objects.get(event_name="Purchase")
    assert (purchase.stage, purchase.value, purchase.currency) == ("won", Decimal("125000.50"), "INR")
    send_conversion(purchase.pk)

    [event] = capi.events_at(DATASET)
    assert event == {
        "event_name": "Purchase",
        "event_time": int(purchase.event_time.timestamp()),
        "event_id": f"lead-{lead.pk}-Purchase",
        "action_source": "business_messaging",
        "messaging_channel": "whatsapp",
        "user_data": {"whatsapp_business_account_id": WABA_ID, "ctwa_clid": CLID},
        "custom_data": {"currency": "INR", "value": 125000.5},
    }


def test_purchase_without_a_currency_uses_deal_currency(capi, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DEAL_CURRENCY": "USD"}
    lead = ad_lead(django_capture_on_commit_callbacks)
    mark_won(lead, django_capture_on_commit_callbacks, value="99")
    assert ConversionEvent.objects.get(event_name="Purchase").currency == "USD"


def test_redelivery_reprocessing_and_repeated_triggers_record_and_send_each_event_once(
    capi, broker, django_capture_on_commit_callbacks
):
    payload = inbound(ad_id=AD_ID)
    with django_capture_on_commit_callbacks(execute=True):
        event = deliver(payload)
        deliver(payload)  # Meta redelivers
        process_event(event.pk)  # an operator re-processes
    lead = Lead.objects.get()
    for _ in range(3):
        record_due(lead.pk)
    mark_won(lead, django_capture_on_commit_callbacks, value="10")
    mark_won(lead, django_capture_on_commit_callbacks, value="10")  # saved again by the admin

    assert sorted(ConversionEvent.objects.values_list("event_name", flat=True)) == [
        "LeadSubmitted",
        "Purchase",
    ]
    rows = list(ConversionEvent.objects.all())
    for row in rows * 2:  # every task delivered twice
        send_conversion(row.pk)
    assert sorted(e["event_name"] for e in capi.events_at(DATASET)) == ["LeadSubmitted", "Purchase"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_row_at_once_post_it_once(capi, django_capture_on_commit_callbacks):
    lead = LeadFactory(ctwa_clid=CLID, source_ad_id=AD_ID)
    ConversationFactory(lead=lead, waba_id=WABA_ID)
    record_due(lead.pk)  # the save's own trigger may have recorded it already: still one row
    row = ConversionEvent.objects.get(lead=lead)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def send() -> None:
        barrier.wait()
        try:
            results.append(send_conversion(row.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results.count(Status.SENT) >= 1
    assert set(results) <= {Status.SENT, "busy"}
    assert len(capi.events_at(DATASET)) == 1


def _due_now(row: ConversionEvent) -> None:
    ConversionEvent.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_server_errors_and_rate_limits_are_retried_with_backoff_then_sent(
    capi, django_capture_on_commit_callbacks
):
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    capi.queue("/events", server_error(503), rate_limited(80004))

    first = send_conversion(row.pk)
    assert first.status == "retry" and first.retry_in == 60
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1 and "retrying in 60s" in row.error
    assert send_conversion(row.pk).status == "not_due"  # too early: nothing posted

    _due_now(row)
    second = send_conversion(row.pk)
    assert second.status == "retry" and second.retry_in == 120
    _due_now(row)
    assert send_conversion(row.pk).status == Status.SENT
    assert len(capi.events_at(DATASET)) == 1
    assert len(capi.requests_to("/events")) == 3


def test_retryable_errors_give_up_after_the_configured_attempts(
    capi, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "CONVERSION_MAX_ATTEMPTS": 2}
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    capi.queue("/events", server_error(), server_error())
    send_conversion(row.pk)
    _due_now(row)
    assert send_conversion(row.pk).status == Status.FAILED
    row.refresh_from_db()
    assert "gave up after 2 attempts" in row.error


def test_an_expired_token_is_recorded_in_words_and_not_retried(capi, django_capture_on_commit_callbacks):
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    capi.token_expired = True

    assert send_conversion(row.pk).status == Status.FAILED
    row.refresh_from_db()
    assert "190" in row.error and "Session has expired" in row.error
    assert "set a new META_ACCESS_TOKEN" in row.error


def test_a_waba_without_dataset_is_recorded_in_words(capi, django_capture_on_commit_callbacks):
    capi.datasets.clear()
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()

    assert send_conversion(row.pk).status == Status.FAILED
    row.refresh_from_db()
    assert f"WhatsApp Business Account {WABA_ID} has no dataset" in row.error
    assert "META_DATASET_ID" in row.error
    assert not capi.requests_to("/events")


def test_the_dataset_is_looked_up_once_and_meta_dataset_id_skips_the_lookup(
    capi, settings, django_capture_on_commit_callbacks
):
    lead = ad_lead(django_capture_on_commit_callbacks)
    mark_won(lead, django_capture_on_commit_callbacks, value="1")
    for row in ConversionEvent.objects.all():
        send_conversion(row.pk)
    assert len(capi.requests_to(f"/{WABA_ID}/dataset")) == 1

    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_DATASET_ID": "999000111222"}
    capi.add_dataset("other-waba", "999000111222")
    cache.clear()
    lead = LeadFactory(ctwa_clid=CLID, source_ad_id=AD_ID)
    ConversationFactory(lead=lead, waba_id="other-waba")
    record_due(lead.pk)
    row = ConversionEvent.objects.get(lead=lead)
    send_conversion(row.pk)
    assert len(capi.requests_to(f"/{WABA_ID}/dataset")) == 1
    assert [e["event_name"] for e in capi.events_at("999000111222")] == ["LeadSubmitted"]


def test_an_event_name_meta_refuses_is_recorded_with_what_to_change(
    capi, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "CONVERSION_EVENTS": {"won": "Contact"},
        "CONVERSION_EVENT_NAMES": ["Contact"],
    }
    lead = LeadFactory(ctwa_clid=CLID, source_ad_id=AD_ID)
    ConversationFactory(lead=lead, waba_id=WABA_ID)
    mark_won(lead, django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()

    assert send_conversion(row.pk).status == Status.FAILED
    row.refresh_from_db()
    assert "2804066" in row.error and "change CONVERSION_EVENTS" in row.error


def test_the_plain_lead_event_is_never_recorded_even_when_configured(
    settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "CONVERSION_EVENTS": {"lead_created": "Lead"},
        "CONVERSION_EVENT_NAMES": ["Lead", "LeadSubmitted"],
    }
    ad_lead(django_capture_on_commit_callbacks)
    assert not ConversionEvent.objects.exists()


def test_a_lead_without_ctwa_clid_is_recorded_not_attributable_and_never_sent(
    capi, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payload = inbound(ad_id=AD_ID)
        del payload["entry"][0]["changes"][0]["value"]["messages"][0]["referral"]["ctwa_clid"]  # a Status ad
        deliver(payload)
    lead = Lead.objects.get()
    mark_won(lead, django_capture_on_commit_callbacks, value="500")

    rows = ConversionEvent.objects.order_by("event_name")
    assert [(r.event_name, r.status) for r in rows] == [
        ("LeadSubmitted", Status.NOT_ATTRIBUTABLE),
        ("Purchase", Status.NOT_ATTRIBUTABLE),
    ]
    assert "no ctwa_clid" in rows[0].error
    assert queued_sends(broker) == []
    for row in rows:
        assert send_conversion(row.pk).status == Status.NOT_ATTRIBUTABLE
    assert resend(ConversionEvent.objects.all()) == 0
    assert capi.requests_to("/events") == []


def test_an_organic_lead_earns_no_lead_submitted_and_its_sale_is_not_attributable(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbound())
    lead = Lead.objects.get()
    assert not ConversionEvent.objects.exists()
    mark_won(lead, django_capture_on_commit_callbacks, value="1")
    assert list(ConversionEvent.objects.values_list("event_name", "status")) == [
        ("Purchase", Status.NOT_ATTRIBUTABLE)
    ]


def test_a_lead_jumping_to_won_also_reaches_a_mapped_qualified_stage(
    settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "CONVERSION_EVENTS": {"qualified": "QualifiedLead", "won": "Purchase"},
        "CONVERSION_EVENT_NAMES": ["QualifiedLead", "Purchase"],
    }
    lead = LeadFactory(ctwa_clid=CLID)
    mark_won(lead, django_capture_on_commit_callbacks, value="1")
    assert sorted(ConversionEvent.objects.values_list("event_name", flat=True)) == [
        "Purchase",
        "QualifiedLead",
    ]


def test_nothing_is_recorded_without_a_meta_token(settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_ACCESS_TOKEN": "", "ACCESS_TOKEN": ""}
    ad_lead(django_capture_on_commit_callbacks)
    assert not ConversionEvent.objects.exists()


def test_a_rolled_back_status_change_records_nothing(django_capture_on_commit_callbacks):
    from django.db import transaction

    lead = LeadFactory(ctwa_clid=CLID)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                lead.status = Lead.Status.WON
                lead.save()
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
    assert not ConversionEvent.objects.exists()


def test_meta_test_event_code_routes_events_to_the_test_tool(
    capi, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_TEST_EVENT_CODE": "TEST12345"}
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    send_conversion(row.pk)
    [post] = [r for r in capi.requests if r.method == "POST"]
    assert post.json["test_event_code"] == "TEST12345"
    row.refresh_from_db()
    assert row.test_event_code == "TEST12345"


def test_a_failed_event_can_be_sent_again(capi, broker, django_capture_on_commit_callbacks):
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    capi.token_expired = True
    send_conversion(row.pk)
    capi.token_expired = False
    broker()

    assert resend(ConversionEvent.objects.all()) == 1
    assert queued_sends(broker) == [row.pk]
    assert send_conversion(row.pk).status == Status.SENT
    assert resend(ConversionEvent.objects.all()) == 0  # a sent event is never posted twice


def test_the_sweep_queues_pending_events_a_lost_task_left_behind(broker, django_capture_on_commit_callbacks):
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    broker()
    assert queue_lost() == 0  # just recorded: its own task is on the way
    ConversionEvent.objects.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    assert queue_lost() == 1
    assert queued_sends(broker) == [row.pk]
    assert queue_lost() == 0  # leased


@pytest.mark.parametrize(
    ("events", "names", "check_id"),
    [
        ({"won": "Lead"}, ["Lead"], "whatsapp_leads.W011"),  # refused by Meta whatever the list says
        ({"qualified": "QualifiedLead"}, ["LeadSubmitted"], "whatsapp_leads.W011"),
        ({"signed": "Purchase"}, ["Purchase"], "whatsapp_leads.E017"),
        (["Purchase"], ["Purchase"], "whatsapp_leads.E017"),
    ],
)
def test_the_system_check_names_a_conversion_mapping_that_would_not_be_sent(
    settings, events, names, check_id
):
    from whatsapp_leads.checks import check_conversion_events

    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "CONVERSION_EVENTS": events,
        "CONVERSION_EVENT_NAMES": names,
    }
    [issue] = check_conversion_events()
    assert issue.id == check_id and "CONVERSION_EVENTS" in issue.msg


def test_the_default_conversion_mapping_passes_the_system_check():
    from whatsapp_leads.checks import check_conversion_events

    assert check_conversion_events() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_is_sent_while_another_worker_holds_its_lead_locked(capi):
    """Sending another event of the lead, or processing its next message, locks the lead row."""
    from django.db import transaction

    lead = LeadFactory(ctwa_clid=CLID, source_ad_id=AD_ID)
    ConversationFactory(lead=lead, waba_id=WABA_ID)
    record_due(lead.pk)
    row = ConversionEvent.objects.get(lead=lead)
    locked, release = threading.Event(), threading.Event()

    def hold_lead() -> None:
        try:
            with transaction.atomic():
                Lead.objects.select_for_update().get(pk=lead.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lead)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert send_conversion(row.pk).status == Status.SENT
    finally:
        release.set()
        holder.join()
    assert len(capi.events_at(DATASET)) == 1


def test_a_deal_value_corrected_before_sending_is_the_one_sent(capi, django_capture_on_commit_callbacks):
    lead = ad_lead(django_capture_on_commit_callbacks)
    mark_won(lead, django_capture_on_commit_callbacks, value="100")
    Lead.objects.filter(pk=lead.pk).update(deal_value=Decimal("250"))

    send_conversion(ConversionEvent.objects.get(event_name="Purchase").pk)

    assert capi.events_at(DATASET)[0]["custom_data"]["value"] == 250.0


def test_the_admin_log_shows_what_was_sent_and_sends_failed_events_again(
    capi, broker, superuser, settings, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.support.people import logged_in

    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "META_DATASET_ID": DATASET}
    ad_lead(django_capture_on_commit_callbacks)
    row = ConversionEvent.objects.get()
    capi.token_expired = True
    send_conversion(row.pk)
    client = logged_in(superuser)

    listing = client.get(reverse("admin:whatsapp_leads_conversionevent_changelist")).content.decode()
    detail = client.get(
        reverse("admin:whatsapp_leads_conversionevent_change", args=[row.pk])
    ).content.decode()
    lead_page = client.get(reverse("admin:whatsapp_leads_lead_change", args=[row.lead_id])).content.decode()

    assert "LeadSubmitted" in listing and "Graph API error 190/463" in listing
    assert "business_messaging" in detail  # the body sent
    assert "Conversions API events (sent to Meta)" in lead_page and "Failed" in lead_page
    broker()
    response = client.post(
        reverse("admin:whatsapp_leads_conversionevent_changelist"),
        {"action": "send_again", "_selected_action": [row.pk]},
        follow=True,
    )
    assert "1 event(s) queued to send again." in response.content.decode()
    assert queued_sends(broker) == [row.pk]
