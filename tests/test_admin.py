"""The admin as sales staff and operators use it: through the real admin views, logged in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.factories import (
    AdFactory,
    CampaignFactory,
    CampaignMemberFactory,
    LeadFactory,
    MessageFactory,
    UserFactory,
    WebhookEventFactory,
)
from tests.support.people import LEAD_PERMS, logged_in, staff
from tests.support.world import T0
from whatsapp_leads.adapter import LeadAdapter
from whatsapp_leads.admin.transcript import build_transcript
from whatsapp_leads.models import (
    AccountEvent,
    CampaignMember,
    Lead,
    LeadAssignment,
    Message,
    WebhookEvent,
)
from whatsapp_leads.parsing import Business
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    WABA_ID,
    contact,
    dumps,
    envelope,
    inbound,
    messages_value,
    status,
    statuses_value,
    text_message,
    wamid,
)
from whatsapp_leads.services.conversations import record_outbound
from whatsapp_leads.services.processing import process_event

pytestmark = pytest.mark.django_db


# --- people ------------------------------------------------------------------------------------


# --- urls ------------------------------------------------------------------------------------


def changelist(model: str) -> str:
    return reverse(f"admin:whatsapp_leads_{model}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:whatsapp_leads_{obj._meta.model_name}_change", args=[obj.pk])


# --- webhooks through the real pipeline -------------------------------------------------------


def deliver(post_webhook, payload: dict) -> WebhookEvent:
    """POST a signed webhook and process it as the worker would."""
    assert post_webhook(payload).status_code == 200
    event = WebhookEvent.objects.latest("pk")
    process_event(event.pk)
    event.refresh_from_db()
    return event


def message_of(kind: str, body: dict, *, wa_id: str, at: int) -> dict:
    """A real-shaped inbound message of any type: Meta's envelope with the type's object."""
    message = text_message(wa_id=wa_id, timestamp=at)
    del message["text"]
    message.update({"type": kind, kind: body})
    return message


def inbound_batch(*messages: dict, wa_id: str, name: str = "Asha Verma") -> dict:
    return envelope(messages_value(list(messages), [contact(wa_id=wa_id, name=name)]))


class ExplodingAdapter(LeadAdapter):
    """A host adapter whose CRM hook is down: every new lead fails until it is switched back."""

    def populate_new_lead(self, lead, message) -> None:
        raise RuntimeError("CRM hook unavailable")


# === Leads: list ===============================================================================


def test_lead_list_shows_the_sales_columns(superuser):
    owner = UserFactory(username="priya")
    campaign = CampaignFactory(name="Diwali home loans")
    LeadFactory(
        name="Asha Verma",
        phone="+919876500001",
        wa_id="919876500001",
        campaign=campaign,
        owner=owner,
        status=Lead.Status.QUALIFIED,
        first_message="I would like a home loan of 40 lakh for a flat in Pune, what documents do you need?",
    )

    page = logged_in(superuser).get(changelist("lead")).content.decode()

    for shown in ("Asha Verma", "+919876500001", "Diwali home loans", "priya", "Qualified"):
        assert shown in page
    assert '<td class="field-first_message_short">I would like a home loan of 40 lakh for a flat' in page
    assert "for a flat in Pune, wha…</td>" in page
    assert "what documents do you need?" not in page


def test_lead_list_of_30_leads_costs_the_same_few_queries(superuser, django_assert_max_num_queries):
    for _ in range(30):
        LeadFactory(campaign=CampaignFactory(), owner=UserFactory())
    client = logged_in(superuser)

    with django_assert_max_num_queries(15):  # one query per row for campaign or owner would be 30+
        response = client.get(changelist("lead"))

    assert response.context["cl"].result_count == 30


def test_lead_list_filters_by_campaign_owner_and_status(superuser):
    diwali, monsoon = CampaignFactory(name="Diwali"), CampaignFactory(name="Monsoon")
    priya, rahul = UserFactory(username="priya"), UserFactory(username="rahul")
    won = LeadFactory(campaign=diwali, owner=priya, status=Lead.Status.WON)
    LeadFactory(campaign=monsoon, owner=rahul, status=Lead.Status.NEW)
    client = logged_in(superuser)

    def listed(**params) -> set[int]:
        response = client.get(changelist("lead"), params)
        return {lead.pk for lead in response.context["cl"].result_list}

    assert listed(campaign__id__exact=diwali.pk) == {won.pk}
    assert listed(owner__id__exact=priya.pk) == {won.pk}
    assert listed(status__exact="won") == {won.pk}


@pytest.mark.parametrize(
    "term", ["98765 00042", "+919876500042", "Rohan", "rohan mehta", "US.13491208655302741918"]
)
def test_lead_search_finds_by_phone_name_and_user_id(superuser, term):
    wanted = LeadFactory(
        name="Rohan Mehta", phone="+919876500042", wa_id="919876500042", user_id="US.13491208655302741918"
    )
    LeadFactory(name="Sunita Rao", phone="+919811100000", wa_id="919811100000")

    response = logged_in(superuser).get(changelist("lead"), {"q": term})

    assert [lead.pk for lead in response.context["cl"].result_list] == [wanted.pk]


def test_leads_cannot_be_added_by_hand(manager):
    assert logged_in(manager).get(reverse("admin:whatsapp_leads_lead_add")).status_code == 403


# === Leads: who sees what ======================================================================


def test_rep_lists_only_their_own_leads(rep, other_rep):
    mine = {LeadFactory(owner=rep, name="Mine One").pk, LeadFactory(owner=rep, name="Mine Two").pk}
    LeadFactory(owner=other_rep, name="Vikrams Lead")
    LeadFactory(owner=None, name="Nobodys Lead")

    response = logged_in(rep).get(changelist("lead"))

    assert response.context["cl"].result_count == 2
    assert {lead.pk for lead in response.context["cl"].result_list} == mine
    assert "Vikrams Lead" not in response.content.decode()


def test_rep_cannot_open_another_reps_lead(rep, other_rep):
    theirs = LeadFactory(owner=other_rep, name="Vikrams Lead")
    client = logged_in(rep)

    for url in (change_url(theirs), reverse("admin:whatsapp_leads_lead_history", args=[theirs.pk])):
        response = client.get(url)
        assert response.status_code == 302  # "doesn't exist", exactly as for a deleted lead
        assert response.url == reverse("admin:index")
        assert "Vikrams Lead" not in client.get(response.url).content.decode()


def test_rep_with_delete_permission_cannot_delete_another_reps_lead(other_rep):
    rep = staff(*LEAD_PERMS, "delete_lead")
    theirs = LeadFactory(owner=other_rep)
    client = logged_in(rep)

    response = client.post(reverse("admin:whatsapp_leads_lead_delete", args=[theirs.pk]), {"post": "yes"})
    client.post(
        changelist("lead"), {"action": "delete_selected", "_selected_action": [theirs.pk], "post": "yes"}
    )

    # Nobody deletes lead rows (erasure is the way), so every id answers 403 alike: no existence leak.
    assert response.status_code == 403
    assert Lead.objects.filter(pk=theirs.pk).exists()


def test_rep_cannot_change_another_reps_lead_by_posting(rep, other_rep):
    theirs = LeadFactory(owner=other_rep, status=Lead.Status.NEW)

    logged_in(rep).post(change_url(theirs), lead_form(theirs, status="lost"))

    theirs.refresh_from_db()
    assert theirs.status == Lead.Status.NEW


def test_rep_filters_offer_no_other_reps_campaigns_or_names(rep, other_rep):
    LeadFactory(owner=rep, campaign=CampaignFactory(name="Shared Diwali"))
    LeadFactory(owner=other_rep, campaign=CampaignFactory(name="Secret Monsoon"))

    page = logged_in(rep).get(changelist("lead")).content.decode()

    assert "Shared Diwali" in page
    assert "Secret Monsoon" not in page
    assert "vikram_rep" not in page


def test_manager_and_superuser_see_every_lead(manager, superuser, rep, other_rep):
    LeadFactory(owner=rep)
    LeadFactory(owner=other_rep)
    LeadFactory(owner=None)

    for user in (manager, superuser):
        page = logged_in(user).get(changelist("lead"))
        assert page.context["cl"].result_count == 3
        assert "vikram_rep" in page.content.decode()  # the owner filter lists every owner


# === Leads: editing ===========================================================================


def lead_form(lead: Lead, **changes: Any) -> dict[str, Any]:
    """The change form as the browser posts it (the read-only assignment inline included)."""
    rows = lead.assignments.count()
    data = {
        "name": lead.name,
        "status": lead.status,
        "owner": lead.owner_id or "",
        "assignments-TOTAL_FORMS": rows,
        "assignments-INITIAL_FORMS": rows,
        "assignments-MIN_NUM_FORMS": 0,
        "assignments-MAX_NUM_FORMS": 1000,
    }
    data.update(changes)
    return data


def test_rep_updates_status_and_name_of_own_lead(rep):
    lead = LeadFactory(owner=rep, name="Asha", status=Lead.Status.NEW)

    response = logged_in(rep).post(change_url(lead), lead_form(lead, name="Asha Verma", status="qualified"))

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.name, lead.status) == ("Asha Verma", Lead.Status.QUALIFIED)


def test_rep_cannot_reassign_their_lead(rep, other_rep):
    lead = LeadFactory(owner=rep)
    client = logged_in(rep)

    page = client.get(change_url(lead)).content.decode()
    client.post(change_url(lead), lead_form(lead, owner=other_rep.pk))

    assert 'name="owner"' not in page
    lead.refresh_from_db()
    assert lead.owner == rep
    assert not LeadAssignment.objects.filter(lead=lead).exists()


def test_manager_reassigning_a_lead_is_recorded_in_its_history(manager, rep, other_rep):
    lead = LeadFactory(owner=rep)

    response = logged_in(manager).post(change_url(lead), lead_form(lead, owner=other_rep.pk))

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == other_rep
    record = LeadAssignment.objects.get(lead=lead)
    assert (record.owner, record.previous_owner, record.assigned_by) == (other_rep, rep, manager)


# === Leads: the change page ===================================================================


def test_change_page_shows_the_ad_campaign_and_assignment_history(post_webhook, rep):
    campaign = CampaignFactory(name="Home loans Q3")
    CampaignMemberFactory(campaign=campaign, user=rep)
    AdFactory(meta_id="120226305854810726", campaign=campaign)
    deliver(post_webhook, inbound(wa_id="919876543210", ad_id="120226305854810726", ctwa_clid="CLID-42"))
    lead = Lead.objects.get()
    assert lead.owner == rep

    page = logged_in(rep).get(change_url(lead)).content.decode()

    assert "120226305854810726" in page
    assert "Home loans at 8.4%" in page  # the referral's headline, stored on the ad
    assert "Home loans Q3" in page
    assert 'href="https://fb.me/3cr4Wqqkv"' in page
    assert "CLID-42" in page
    assert "Assignment history" in page
    assert "Round robin in campaign" in page


def test_ad_url_that_is_not_http_is_shown_but_never_linked(superuser):
    ad = AdFactory(source_url="javascript:alert(document.cookie)")
    lead = LeadFactory(ad=ad, campaign=ad.campaign)

    page = logged_in(superuser).get(change_url(lead)).content.decode()

    assert "javascript:alert(document.cookie)" in page
    assert 'href="javascript:' not in page


def test_transcript_shows_each_message_kind_readably_in_time_order(post_webhook, superuser):
    who = "919876543211"
    deliver(
        post_webhook,
        inbound_batch(
            text_message(wa_id=who, text="Need a loan for my shop", timestamp=T0),
            message_of(
                "image",
                {"caption": "My GST certificate", "mime_type": "image/jpeg", "sha256": "abc=", "id": "1"},
                wa_id=who,
                at=T0 + 60,
            ),
            message_of(
                "location",
                {"latitude": 18.5204, "longitude": 73.8567, "name": "Shaniwar Wada", "address": "Pune"},
                wa_id=who,
                at=T0 + 120,
            ),
            message_of("reaction", {"message_id": wamid(), "emoji": "👍"}, wa_id=who, at=T0 + 180),
            message_of("hologram", {"id": "x"}, wa_id=who, at=T0 + 240),
            wa_id=who,
        ),
    )
    lead = Lead.objects.get(wa_id=who)

    page = logged_in(superuser).get(change_url(lead)).content.decode()

    lines = [
        "Need a loan for my shop",
        "[Image] My GST certificate",
        "[Location] Shaniwar Wada, Pune",
        "Reacted 👍",
        "[hologram]",
    ]
    positions = [page.find(line) for line in lines]
    assert -1 not in positions, dict(zip(lines, positions, strict=True))
    assert positions == sorted(positions)
    for kind in ("image", "location", "reaction", "hologram"):
        assert f'<span class="wl-kind">{kind}</span>' in page


def test_transcript_escapes_what_the_user_typed(post_webhook, superuser):
    deliver(post_webhook, inbound(wa_id="919876543212", text="<script>alert(1)</script>"))
    lead = Lead.objects.get(wa_id="919876543212")

    page = logged_in(superuser).get(change_url(lead)).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_transcript_shows_delivery_ticks_and_failure_of_our_messages(post_webhook, superuser):
    deliver(post_webhook, inbound(wa_id="919876543213", text="Hello", timestamp=T0))
    lead = Lead.objects.get(wa_id="919876543213")
    business = Business(waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER)
    sent = {}
    for offset, word in enumerate(("delivered", "read", "failed"), start=1):
        when = datetime.fromtimestamp(T0 + 60 * offset, tz=UTC)
        message = record_outbound(
            lead, wamid=wamid(), text=f"Our reply {word}", business=business, timestamp=when
        )
        sent[word] = message.wamid
    error = {"code": 131049, "title": "Not delivered to maintain healthy ecosystem engagement."}
    deliver(
        post_webhook,
        envelope(
            statuses_value(
                [
                    status(sent["delivered"], "delivered", timestamp=T0 + 400),
                    status(sent["read"], "read", timestamp=T0 + 400),
                    status(sent["failed"], "failed", timestamp=T0 + 400, errors=[error]),
                ]
            )
        ),
    )
    assert Message.objects.get(wamid=sent["read"]).status == Message.Status.READ

    page = logged_in(superuser).get(change_url(lead)).content.decode()

    assert page.count('<div class="wl-line wl-in">') == 1
    assert page.count('<div class="wl-line wl-out">') == 3
    assert 'class="wl-status wl-status-delivered"' in page
    assert 'class="wl-status wl-status-read"' in page
    assert "✓✓" in page
    assert "131049 Not delivered to maintain healthy ecosystem engagement." in page


def test_rep_with_view_permission_only_reads_the_lead_and_its_transcript(post_webhook):
    reader = staff("view_lead", username="intern")
    deliver(post_webhook, inbound(wa_id="919876543215", text="Is the offer still on?"))
    lead = Lead.objects.get(wa_id="919876543215")
    lead.owner = reader
    lead.save()

    page = logged_in(reader).get(change_url(lead)).content.decode()

    assert "Is the offer still on?" in page
    assert 'name="_save"' not in page
    assert 'name="status"' not in page


def test_long_thread_shows_its_latest_messages_and_the_total(post_webhook):
    who = "919876543216"
    deliver(
        post_webhook,
        inbound_batch(
            *(text_message(wa_id=who, text=f"message {n}", timestamp=T0 + n) for n in range(5)), wa_id=who
        ),
    )

    transcript = build_transcript(Lead.objects.get(wa_id=who), limit=2)

    assert [line.text for line in transcript.lines] == ["message 3", "message 4"]
    assert (transcript.total, transcript.truncated) == (5, True)


# === Campaigns and ads =========================================================================


def test_campaign_list_counts_active_members_and_leads(superuser, django_assert_max_num_queries):
    diwali = CampaignFactory(name="Diwali")
    CampaignMemberFactory.create_batch(2, campaign=diwali)
    CampaignMemberFactory(campaign=diwali, is_active=False)
    LeadFactory.create_batch(3, campaign=diwali)
    for _ in range(10):
        LeadFactory(campaign=CampaignFactory(), owner=CampaignMemberFactory().user)
    client = logged_in(superuser)

    with django_assert_max_num_queries(10):
        response = client.get(changelist("campaign"), {"q": "Diwali"})

    (row,) = response.context["cl"].result_list
    assert (row.n_active_members, row.n_leads) == (2, 3)
    assert f'?campaign__id__exact={diwali.pk}">3</a>' in response.content.decode()


def browser_post(page, **changes: Any) -> dict[str, Any]:
    """A change page's form as a browser posts it back unchanged: fields, inline rows, management forms."""
    forms = [page.context["adminform"].form]
    data: dict[str, Any] = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        forms += formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None and value is not False:  # an unchecked box is not posted
                data[form.add_prefix(name)] = value
    data.update(changes)
    return data


def new_inline_row(page, prefix: str, index: int, **values: Any) -> dict[str, Any]:
    """An added inline row with the fields' defaults, as the "Add another" link creates it."""
    (formset,) = [i.formset for i in page.context["inline_admin_formsets"] if i.formset.prefix == prefix]
    empty = formset.empty_form
    row = {
        empty.add_prefix(name).replace("__prefix__", str(index)): empty[name].value()
        for name in empty.fields
        if empty[name].value() is not None and empty[name].value() is not False
    }
    row.update({f"{prefix}-{index}-{name}": value for name, value in values.items()})
    return row


def test_campaign_page_adds_a_rep_to_the_rotation(superuser):
    campaign = CampaignFactory(name="Diwali")
    CampaignMemberFactory(campaign=campaign)
    AdFactory(campaign=campaign, meta_id="120226305854810999")
    newcomer = UserFactory(username="new_rep")
    client = logged_in(superuser)
    page = client.get(change_url(campaign))

    response = client.post(
        change_url(campaign),
        browser_post(
            page,
            **{"members-TOTAL_FORMS": 2},
            **new_inline_row(page, "members", 1, user=newcomer.pk, is_active="on"),
        ),
    )

    assert "120226305854810999" in page.content.decode()  # the campaign's ads, listed read-only
    assert response.status_code == 302, response.context["errors"]
    assert CampaignMember.objects.filter(campaign=campaign, is_active=True).count() == 2
    assert CampaignMember.objects.filter(campaign=campaign, user=newcomer, is_active=True).exists()


def test_ad_list_counts_leads_and_searches_by_ad_id(superuser):
    ad = AdFactory(meta_id="120226305854810726", name="Flat in Pune")
    LeadFactory.create_batch(2, ad=ad, campaign=ad.campaign)
    AdFactory(meta_id="120226305854899999")

    response = logged_in(superuser).get(changelist("ad"), {"q": "120226305854810726"})

    (row,) = response.context["cl"].result_list
    assert row.n_leads == 2
    assert f'?ad__id__exact={ad.pk}">2</a>' in response.content.decode()


# === Webhook log ===============================================================================


def test_webhook_events_cannot_be_added_changed_or_deleted(superuser):
    event = WebhookEventFactory(status=WebhookEvent.Status.FAILED, error="boom")
    client = logged_in(superuser)

    detail = client.get(change_url(event))

    assert client.get(reverse("admin:whatsapp_leads_webhookevent_add")).status_code == 403
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.post(change_url(event), {"status": "processed"}).status_code == 403
    assert client.get(reverse("admin:whatsapp_leads_webhookevent_delete", args=[event.pk])).status_code == 403
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.FAILED


def test_webhook_event_page_pretty_prints_the_body_escaped(superuser):
    json_event = WebhookEventFactory(
        body=b'{"object":"whatsapp_business_account","entry":[{"id":"<b>1</b>"}]}'
    )
    garbage = WebhookEventFactory(body=b"not json <img src=x onerror=alert(1)> \xff")
    client = logged_in(superuser)

    pretty = client.get(change_url(json_event)).content.decode()
    raw = client.get(change_url(garbage)).content.decode()

    assert "{\n  &quot;object&quot;: &quot;whatsapp_business_account&quot;,\n  &quot;entry&quot;: [" in pretty
    assert "&lt;b&gt;1&lt;/b&gt;" in pretty
    assert "not json &lt;img src=x onerror=alert(1)&gt; \ufffd" in raw
    assert "<img src=x" not in raw


def test_webhook_list_shows_status_and_first_line_of_error(superuser):
    WebhookEventFactory(
        status=WebhookEvent.Status.FAILED, attempts=3, error="update 0 (InboundMessage): boom\nsecond line"
    )

    page = logged_in(superuser).get(changelist("webhookevent"), {"status__exact": "failed"}).content.decode()

    assert "update 0 (InboundMessage): boom" in page
    assert "second line" not in page


def reprocess(client: Client, *events: WebhookEvent):
    return client.post(
        changelist("webhookevent"),
        {"action": "reprocess", "_selected_action": [e.pk for e in events], "index": 0},
        follow=True,
    )


def test_reprocess_action_turns_a_failed_event_into_leads_once_its_cause_is_fixed(
    post_webhook, settings, superuser
):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "ADAPTER": "tests.test_admin.ExplodingAdapter"}
    event = deliver(post_webhook, inbound(wa_id="919876543214", name="Kavya"))
    assert event.status == WebhookEvent.Status.FAILED
    assert "CRM hook unavailable" in event.error
    assert not Lead.objects.exists()
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "ADAPTER": "whatsapp_leads.adapter.LeadAdapter"}

    response = reprocess(logged_in(superuser), event)

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.error == ""
    assert Lead.objects.get().name == "Kavya"
    assert "Re-processed 1 event(s): 1 processed, 0 failed." in response.content.decode()


def test_reprocess_action_runs_already_processed_events_again(post_webhook, superuser):
    event = deliver(post_webhook, inbound(wa_id="919876543217"))
    assert (event.status, event.attempts) == (WebhookEvent.Status.PROCESSED, 1)

    reprocess(logged_in(superuser), event)

    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert Lead.objects.filter(wa_id="919876543217").count() == 1


def test_reprocess_action_reports_events_that_still_fail(superuser):
    garbage = WebhookEventFactory(body=b"not json", status=WebhookEvent.Status.FAILED)

    response = reprocess(logged_in(superuser), garbage)

    garbage.refresh_from_db()
    assert garbage.status == WebhookEvent.Status.FAILED
    assert "1 failed" in response.content.decode()


def test_reprocess_action_hands_large_selections_to_the_workers(superuser):
    events = WebhookEventFactory.create_batch(51, status=WebhookEvent.Status.PROCESSED)

    reprocess(logged_in(superuser), *events)

    # Pending with a fresh queued_at: the task will run them, and the sweep re-queues any the
    # broker refused.
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PENDING).exists()
    assert not WebhookEvent.objects.filter(queued_at__isnull=True).exists()
    assert not WebhookEvent.objects.filter(attempts__gt=0).exists()  # nothing ran inside the request


def test_reprocess_action_publishes_one_task_per_event_in_a_large_selection(superuser, _in_memory_broker):
    events = WebhookEventFactory.create_batch(51, status=WebhookEvent.Status.FAILED)
    with _in_memory_broker.connection_for_write() as conn:
        queue = conn.SimpleQueue(_in_memory_broker.conf.task_default_queue)
        queue.clear()

        response = reprocess(logged_in(superuser), *events)

        published = []
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            published.append((message.headers["task"], message.payload[0][0]))
            message.ack()
        queue.close()

    assert sorted(published) == [("whatsapp_leads.process_webhook_event", e.pk) for e in events]
    assert "Queued 51 event(s) for re-processing." in response.content.decode()


def test_reprocess_action_needs_the_change_permission(post_webhook):
    viewer = staff("view_webhookevent")
    event = WebhookEventFactory(body=b'{"object":"whatsapp_business_account","entry":[]}')
    client = logged_in(viewer)

    page = client.get(changelist("webhookevent")).content.decode()
    reprocess(client, event)

    assert "Re-process selected events" not in page
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEvent.Status.PENDING, 0)


def test_account_events_are_listed_read_only_and_filter_by_field(superuser):
    quality = AccountEvent.objects.create(
        field="phone_number_quality_update",
        event="FLAGGED",
        summary="Quality rating dropped to yellow",
        waba_id=WABA_ID,
        fingerprint="a" * 64,
    )
    AccountEvent.objects.create(field="account_update", event="DISABLED_UPDATE", fingerprint="b" * 64)
    client = logged_in(superuser)

    response = client.get(changelist("accountevent"), {"field": "phone_number_quality_update"})

    assert [e.pk for e in response.context["cl"].result_list] == [quality.pk]
    assert "Quality rating dropped to yellow" in response.content.decode()
    assert client.get(reverse("admin:whatsapp_leads_accountevent_add")).status_code == 403
    assert 'name="_save"' not in client.get(change_url(quality)).content.decode()


def test_transcript_orders_messages_of_the_same_second_by_arrival():
    """Meta's timestamps are whole seconds; two messages in one second keep the order they arrived in."""
    first = WebhookEvent.objects.create(
        body=dumps(inbound(text="What documents do I need?", timestamp=1749416383))
    )
    second = WebhookEvent.objects.create(body=dumps(inbound(text="My salary is 80k", timestamp=1749416383)))
    process_event(second.pk)  # a second worker got to the later one first
    process_event(first.pk)

    lead = Lead.objects.get()
    texts = [line.text for line in build_transcript(lead).lines]
    assert texts == ["What documents do I need?", "My salary is 80k"]


def test_a_stored_link_to_another_leads_message_is_not_quoted_on_my_page(superuser):
    theirs = MessageFactory(text="Their private address is 12 Park Lane")
    mine = MessageFactory(reply_to_wamid=theirs.wamid)
    Message.objects.filter(pk=mine.pk).update(reply_to=theirs)  # as linked before replies were per lead

    page = logged_in(superuser).get(change_url(mine.conversation.lead)).content.decode()

    assert "12 Park Lane" not in page
    assert "In reply to: a message not stored here" in page
