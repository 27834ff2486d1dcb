"""The REST API as a host CRM's code uses it: DRF's APIClient against the real URLs, views and database."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.support.factories import (
    AdFactory,
    CampaignFactory,
    CampaignMemberFactory,
    ConversationFactory,
    LeadFactory,
    MessageFactory,
    UserFactory,
)
from tests.support.people import LEAD_PERMS, staff
from tests.support.world import T0
from whatsapp_leads.models import Lead, LeadAssignment, WebhookEvent
from whatsapp_leads.parsing import Business
from whatsapp_leads.permissions import can_reassign_leads, can_see_all_leads, visible_leads
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    WABA_ID,
    contact,
    dumps,
    envelope,
    inbound,
    messages_value,
    text_message,
    wamid,
)
from whatsapp_leads.services import assignment
from whatsapp_leads.services.conversations import record_outbound
from whatsapp_leads.services.processing import process_event
from whatsapp_leads.signals import lead_assigned

pytestmark = pytest.mark.django_db

PASSWORD = "rep-password-123"  # tests.support.factories.UserFactory's


# --- people and clients --------------------------------------------------------------------------


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- urls ----------------------------------------------------------------------------------------


def leads_url() -> str:
    return reverse("whatsapp_leads:lead-list")


def lead_url(lead: Lead) -> str:
    return reverse("whatsapp_leads:lead-detail", args=[lead.pk])


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def deliver(post_webhook, payload: dict) -> None:
    """POST a signed webhook and process it as the worker would."""
    assert post_webhook(payload).status_code == 200
    process_event(WebhookEvent.objects.latest("pk").pk)


# === Authentication and the shared row rule ========================================================


def test_the_api_lives_under_the_apps_url_namespace():
    assert reverse("whatsapp_leads:lead-list") == "/whatsapp/api/leads/"
    assert reverse("whatsapp_leads:campaign-numbers", args=[7]) == "/whatsapp/api/campaigns/7/numbers/"


@pytest.mark.parametrize("name", ["lead-list", "campaign-list", "api-root"])
def test_anonymous_callers_get_401_with_the_hosts_challenge(name):
    response = api().get(reverse(f"whatsapp_leads:{name}"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")


def test_anonymous_callers_learn_nothing_about_a_lead(rep):
    lead = LeadFactory(owner=rep)

    response = api().patch(lead_url(lead), {"status": "won"}, format="json")

    assert response.status_code == 401
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW


def test_basic_auth_configured_by_the_host_logs_a_rep_in(rep):
    mine = LeadFactory(owner=rep)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"asha_rep:{PASSWORD}".encode()).decode()
    )

    assert ids(client.get(leads_url())) == [mine.pk]


def test_session_login_as_in_the_admin_also_works(rep):
    mine = LeadFactory(owner=rep)
    client = APIClient()
    client.force_login(rep)

    assert ids(client.get(leads_url())) == [mine.pk]


def test_a_user_without_view_lead_cannot_read_leads_even_their_own():
    user = staff("change_lead")
    LeadFactory(owner=user)

    assert api(user).get(leads_url()).status_code == 403


def test_a_rep_lists_only_the_leads_they_own(rep, other_rep):
    mine = [LeadFactory(owner=rep) for _ in range(3)]
    LeadFactory(owner=other_rep)
    LeadFactory(owner=None)

    response = api(rep).get(leads_url())

    assert response.json()["count"] == 3
    assert sorted(ids(response)) == sorted(lead.pk for lead in mine)


@pytest.mark.parametrize("suffix", ["", "messages/", "assignments/"])
def test_another_reps_lead_is_404_for_a_rep_so_ids_do_not_leak(rep, other_rep, suffix):
    theirs = LeadFactory(owner=other_rep)

    response = api(rep).get(lead_url(theirs) + suffix)

    assert response.status_code == 404
    assert api(rep).get(f"/whatsapp/api/leads/{theirs.pk + 1000}/{suffix}").status_code == 404


def test_a_rep_cannot_patch_another_reps_lead_and_gets_404_not_403(rep, other_rep):
    theirs = LeadFactory(owner=other_rep, status=Lead.Status.NEW)

    # even a body a rep may never send is answered 404: the id's existence is not confirmed
    for body in ({"status": "lost"}, {"owner": rep.pk}):
        assert api(rep).patch(lead_url(theirs), body, format="json").status_code == 404

    theirs.refresh_from_db()
    assert (theirs.status, theirs.owner_id) == (Lead.Status.NEW, other_rep.pk)


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_managers_and_superusers_see_every_lead(request, rep, other_rep, who):
    everyone = [LeadFactory(owner=rep), LeadFactory(owner=other_rep), LeadFactory(owner=None)]
    user = request.getfixturevalue(who)

    assert sorted(ids(api(user).get(leads_url()))) == sorted(lead.pk for lead in everyone)
    assert api(user).get(lead_url(everyone[0])).status_code == 200


def test_the_row_rule_is_the_same_function_for_admin_and_api(rep, manager, superuser):
    inactive_manager = staff(*LEAD_PERMS, "view_all_leads", is_active=False)
    mine, theirs = LeadFactory(owner=rep), LeadFactory(owner=None)

    assert set(visible_leads(rep)) == {mine}
    assert set(visible_leads(manager)) == {mine, theirs}
    assert set(visible_leads(superuser, queryset=Lead.objects.filter(pk=theirs.pk))) == {theirs}
    assert not visible_leads(AnonymousUser()).exists()
    assert not visible_leads(inactive_manager).exists()
    assert (can_see_all_leads(rep), can_see_all_leads(manager), can_see_all_leads(inactive_manager)) == (
        False,
        True,
        False,
    )
    assert (can_reassign_leads(rep), can_reassign_leads(manager), can_reassign_leads(superuser)) == (
        False,
        True,
        True,
    )


# === Lead list: pagination, filters, search, ordering =============================================


def test_lead_list_pages_hold_50_leads_by_default_and_page_size_is_capped_at_200(superuser):
    Lead.objects.bulk_create(LeadFactory.build_batch(205))
    client = api(superuser)

    first = client.get(leads_url()).json()
    assert (first["count"], len(first["results"])) == (205, 50)
    assert "page=2" in first["next"] and first["previous"] is None
    assert len(client.get(leads_url(), {"page_size": 10}).json()["results"]) == 10
    assert len(client.get(leads_url(), {"page_size": 1000}).json()["results"]) == 200
    last = client.get(leads_url(), {"page": 5}).json()
    assert len(last["results"]) == 5 and last["next"] is None


def test_pages_neither_repeat_nor_skip_leads_created_in_the_same_instant(superuser):
    Lead.objects.bulk_create(LeadFactory.build_batch(7))
    Lead.objects.update(created_at=timezone.now())
    client = api(superuser)

    seen = [pk for page in (1, 2, 3) for pk in ids(client.get(leads_url(), {"page_size": 3, "page": page}))]

    assert seen == sorted(Lead.objects.values_list("pk", flat=True), reverse=True)  # newest id first


def test_lead_list_filters_by_status_campaign_and_owner(manager, rep, other_rep):
    diwali, monsoon = CampaignFactory(name="Diwali"), CampaignFactory(name="Monsoon")
    won = LeadFactory(campaign=diwali, owner=rep, status=Lead.Status.WON)
    contacted = LeadFactory(campaign=monsoon, owner=other_rep, status=Lead.Status.CONTACTED)
    new = LeadFactory(campaign=diwali, owner=None, status=Lead.Status.NEW)
    client = api(manager)

    def listed(**params) -> set[int]:
        return set(ids(client.get(leads_url(), params)))

    assert listed(status="won") == {won.pk}
    assert listed(status="new,contacted") == {new.pk, contacted.pk}
    assert listed(campaign=diwali.pk) == {won.pk, new.pk}
    assert listed(owner=rep.pk) == {won.pk}
    assert listed(owner="none") == {new.pk}
    assert listed(campaign=diwali.pk, status="won") == {won.pk}
    assert listed(owner="me") == set()


def test_owner_me_is_the_callers_own_leads(rep, manager):
    mine = LeadFactory(owner=manager)
    LeadFactory(owner=rep)

    assert ids(api(manager).get(leads_url(), {"owner": "me"})) == [mine.pk]


def test_filters_narrow_a_reps_leads_and_never_widen_them(rep, other_rep):
    LeadFactory(owner=other_rep, status=Lead.Status.WON)

    assert ids(api(rep).get(leads_url(), {"owner": other_rep.pk, "status": "won"})) == []


def test_lead_list_filters_by_creation_day_in_the_business_time_zone(manager, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Kolkata"}
    june_1_late = LeadFactory()  # 23:30 in Pune on 1 June is still 18:00 UTC on 1 June
    june_2_early = LeadFactory()  # 00:30 in Pune on 2 June is 19:00 UTC on 1 June
    june_3 = LeadFactory()
    Lead.objects.filter(pk=june_1_late.pk).update(created_at=datetime(2025, 6, 1, 18, 0, tzinfo=UTC))
    Lead.objects.filter(pk=june_2_early.pk).update(created_at=datetime(2025, 6, 1, 19, 0, tzinfo=UTC))
    Lead.objects.filter(pk=june_3.pk).update(created_at=datetime(2025, 6, 3, 6, 0, tzinfo=UTC))
    client = api(manager)

    def listed(**params) -> set[int]:
        return set(ids(client.get(leads_url(), params)))

    assert listed(created_after="2025-06-02") == {june_2_early.pk, june_3.pk}
    assert listed(created_before="2025-06-01") == {june_1_late.pk}
    assert listed(created_after="2025-06-02", created_before="2025-06-02") == {june_2_early.pk}
    assert listed(created_after="2025-06-01T18:30:00Z") == {june_2_early.pk, june_3.pk}
    assert listed(created_before="2025-06-01T19:00:00+00:00") == {june_1_late.pk, june_2_early.pk}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "hot"),
        ("campaign", "diwali"),
        ("owner", "asha"),
        ("created_after", "1 June"),
        ("created_before", "2025-02-30"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(manager, param, value):
    response = api(manager).get(leads_url(), {param: value})

    assert response.status_code == 400
    assert param in response.json()


@pytest.mark.parametrize(
    "term",
    ["98765 00042", "+919876500042", "Rohan", "rohan mehta", "US.13491208655302741918", "919876500042"],
)
def test_lead_search_finds_by_phone_name_wa_id_and_user_id(manager, term):
    wanted = LeadFactory(
        name="Rohan Mehta", phone="+919876500042", wa_id="919876500042", user_id="US.13491208655302741918"
    )
    LeadFactory(name="Sunita Rao", phone="+919811100000", wa_id="919811100000")

    assert ids(api(manager).get(leads_url(), {"search": term})) == [wanted.pk]


def test_lead_list_is_newest_first_and_orders_by_last_message_with_silent_leads_last(manager):
    now = timezone.now()
    oldest = LeadFactory(last_message_at=now - timedelta(minutes=5))
    silent = LeadFactory(last_message_at=None)
    newest = LeadFactory(last_message_at=now - timedelta(minutes=10))
    client = api(manager)

    assert ids(client.get(leads_url())) == [newest.pk, silent.pk, oldest.pk]
    assert ids(client.get(leads_url(), {"ordering": "last_message_at"})) == [newest.pk, oldest.pk, silent.pk]
    assert ids(client.get(leads_url(), {"ordering": "-last_message_at"})) == [oldest.pk, newest.pk, silent.pk]
    assert ids(client.get(leads_url(), {"ordering": "created_at"})) == [oldest.pk, silent.pk, newest.pk]


@pytest.mark.parametrize("value", ["bogus", "owner__password", "created_at,bogus", "-pk"])
def test_an_ordering_that_is_not_offered_is_a_400_naming_the_parameter(manager, value):
    LeadFactory()

    response = api(manager).get(leads_url(), {"ordering": value})

    assert response.status_code == 400
    assert list(response.json()) == ["ordering"]


# === Lead detail =====================================================================================


def test_lead_detail_shows_the_ad_campaign_owner_referral_first_message_and_counts(post_webhook, manager):
    campaign = CampaignFactory(name="Diwali home loans", meta_id="120226305854810001")
    ad = AdFactory(meta_id="120226305854810726", campaign=campaign)
    rep = CampaignMemberFactory(campaign=campaign, user__username="priya", user__first_name="Priya").user
    who = "919876500077"
    deliver(
        post_webhook,
        inbound(wa_id=who, name="Rohan Mehta", text="Home loan?", ad_id=ad.meta_id, timestamp=T0),
    )
    deliver(post_webhook, inbound(wa_id=who, name="Rohan Mehta", text="40 lakh", timestamp=T0 + 60))
    lead = Lead.objects.get(wa_id=who)

    body = api(manager).get(lead_url(lead)).json()

    assert body["name"] == "Rohan Mehta"
    assert body["phone"] == "+919876500077"
    assert body["status"] == "new"
    assert body["owner"] == {"id": rep.pk, "username": "priya", "name": "Priya"}
    assert body["campaign"] == {
        "id": campaign.pk,
        "name": "Diwali home loans",
        "meta_id": "120226305854810001",
    }
    assert body["ad"]["id"] == ad.pk and body["ad"]["meta_id"] == "120226305854810726"
    assert body["ad"]["headline"]  # from the referral
    assert body["referral"] == lead.referral and body["referral"]
    assert body["ctwa_clid"] == lead.ctwa_clid != ""
    assert body["first_message"] == "Home loan?"
    assert body["counts"] == {"messages": 2, "inbound_messages": 2, "conversations": 1, "assignments": 1}


def test_lead_detail_of_an_unassigned_lead_without_an_ad_has_nulls(manager):
    lead = LeadFactory(owner=None, campaign=None)

    body = api(manager).get(lead_url(lead)).json()

    assert (body["owner"], body["campaign"], body["ad"]) == (None, None, None)
    assert body["counts"] == {"messages": 0, "inbound_messages": 0, "conversations": 0, "assignments": 0}


# === PATCH ===========================================================================================


def test_a_rep_changes_status_and_name_of_their_own_lead(rep):
    lead = LeadFactory(owner=rep, status=Lead.Status.NEW, name="rohan")

    response = api(rep).patch(lead_url(lead), {"status": "qualified", "name": "Rohan Mehta"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "qualified" and response.json()["counts"]["assignments"] == 0
    lead.refresh_from_db()
    assert (lead.status, lead.name, lead.owner_id) == (Lead.Status.QUALIFIED, "Rohan Mehta", rep.pk)
    assert not LeadAssignment.objects.exists()


def test_a_rep_may_not_change_the_owner_and_gets_403(rep, other_rep):
    lead = LeadFactory(owner=rep, status=Lead.Status.NEW)

    for owner in (other_rep.pk, None, rep.pk):
        response = api(rep).patch(lead_url(lead), {"owner": owner, "status": "won"}, format="json")
        assert response.status_code == 403
        assert "owner" in response.json()["detail"]

    lead.refresh_from_db()
    assert (lead.owner_id, lead.status) == (rep.pk, Lead.Status.NEW)  # nothing of the body applied
    assert not LeadAssignment.objects.exists()


def test_a_manager_reassigns_through_the_assignment_service(
    manager, rep, other_rep, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=rep)
    announced = []

    def receiver(sender, **kwargs):
        announced.append((kwargs["owner"], kwargs["previous_owner"], kwargs["reason"]))

    lead_assigned.connect(receiver, dispatch_uid="test_api_reassign")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api(manager).patch(lead_url(lead), {"owner": other_rep.pk}, format="json")
    finally:
        lead_assigned.disconnect(dispatch_uid="test_api_reassign")

    assert response.status_code == 200, response.content
    assert response.json()["owner"]["id"] == other_rep.pk
    record = LeadAssignment.objects.get(lead=lead)
    assert (record.owner, record.previous_owner, record.assigned_by) == (other_rep, rep, manager)
    assert record.reason == "Re-assigned by meera_manager"
    assert announced == [(other_rep, rep, "Re-assigned by meera_manager")]
    assert api(other_rep).get(lead_url(lead)).status_code == 200
    assert api(rep).get(lead_url(lead)).status_code == 404


def test_a_manager_can_unassign_and_setting_the_same_owner_records_nothing(manager, rep):
    lead = LeadFactory(owner=rep)
    client = api(manager)

    assert client.patch(lead_url(lead), {"owner": rep.pk}, format="json").status_code == 200
    assert not LeadAssignment.objects.exists()

    assert client.patch(lead_url(lead), {"owner": None}, format="json").json()["owner"] is None
    record = LeadAssignment.objects.get()
    assert (record.owner, record.previous_owner, record.assigned_by) == (None, rep, manager)


def test_a_lead_cannot_be_handed_to_a_deactivated_user(manager, rep):
    lead = LeadFactory(owner=rep)
    gone = UserFactory(is_active=False)

    response = api(manager).patch(lead_url(lead), {"owner": gone.pk}, format="json")

    assert response.status_code == 400 and "owner" in response.json()
    lead.refresh_from_db()
    assert lead.owner_id == rep.pk


def test_whatsapp_given_fields_are_refused_by_name_not_silently_dropped(rep):
    lead = LeadFactory(owner=rep, phone="+919876500001")

    response = api(rep).patch(lead_url(lead), {"phone": "+910000000000", "status": "won"}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()
    lead.refresh_from_db()
    assert (lead.phone, lead.status) == ("+919876500001", Lead.Status.NEW)


def test_an_unknown_status_is_a_400(rep):
    lead = LeadFactory(owner=rep)

    assert api(rep).patch(lead_url(lead), {"status": "hot"}, format="json").status_code == 400


def test_patch_needs_change_lead_and_put_is_not_offered(rep):
    reader = staff("view_lead")
    lead = LeadFactory(owner=reader)

    assert api(reader).patch(lead_url(lead), {"status": "won"}, format="json").status_code == 403
    assert api(rep).put(lead_url(LeadFactory(owner=rep)), {"status": "won"}, format="json").status_code == 405


# === Messages and assignments ========================================================================


def test_messages_are_the_transcript_oldest_first_whatever_the_arrival_order(post_webhook, rep):
    who = "919876500088"
    deliver(post_webhook, inbound(wa_id=who, text="third", timestamp=T0 + 120))
    deliver(post_webhook, inbound(wa_id=who, text="first", timestamp=T0))
    lead = Lead.objects.get(wa_id=who)
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    business = Business(waba_id=WABA_ID, phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER)
    record_outbound(
        lead,
        wamid=wamid(),
        text="second",
        business=business,
        timestamp=datetime.fromtimestamp(T0 + 60, tz=UTC),
    )
    url = reverse("whatsapp_leads:lead-messages", args=[lead.pk])

    rows = api(rep).get(url).json()["results"]

    assert [(m["text"], m["direction"]) for m in rows] == [
        ("first", "inbound"),
        ("second", "outbound"),
        ("third", "inbound"),
    ]
    assert rows[1]["status"] == "pending" and rows[0]["business_number"] == DISPLAY_NUMBER
    page_two = api(rep).get(url, {"page_size": 2, "page": 2}).json()
    assert page_two["count"] == 3 and [m["text"] for m in page_two["results"]] == ["third"]


def test_messages_of_one_batch_keep_metas_order(post_webhook, manager):
    who = "919876500089"
    batch = [text_message(wa_id=who, text=f"part {n}", timestamp=T0 + n) for n in (3, 1, 2)]
    deliver(post_webhook, envelope(messages_value(batch, [contact(wa_id=who)])))
    lead = Lead.objects.get(wa_id=who)

    rows = api(manager).get(reverse("whatsapp_leads:lead-messages", args=[lead.pk])).json()["results"]

    assert [m["text"] for m in rows] == ["part 1", "part 2", "part 3"]


def test_messages_of_the_same_second_keep_the_order_their_webhooks_arrived_in(manager):
    first = WebhookEvent.objects.create(body=dumps(inbound(text="What documents do I need?", timestamp=T0)))
    second = WebhookEvent.objects.create(body=dumps(inbound(text="My salary is 80k", timestamp=T0)))
    process_event(second.pk)  # a second worker got to the later one first
    process_event(first.pk)
    lead = Lead.objects.get()

    rows = api(manager).get(reverse("whatsapp_leads:lead-messages", args=[lead.pk])).json()["results"]

    assert [m["text"] for m in rows] == ["What documents do I need?", "My salary is 80k"]


def test_assignments_show_routing_and_reassignments_newest_first(post_webhook, manager, other_rep):
    campaign = CampaignFactory(name="Monsoon")
    ad = AdFactory(campaign=campaign)
    first_owner = CampaignMemberFactory(campaign=campaign, user__username="priya").user
    deliver(post_webhook, inbound(wa_id="919876500090", ad_id=ad.meta_id))
    lead = Lead.objects.get(wa_id="919876500090")
    assignment.reassign(lead, owner=other_rep, by=manager)

    rows = api(manager).get(reverse("whatsapp_leads:lead-assignments", args=[lead.pk])).json()["results"]

    assert [(r["owner"]["username"], r["assigned_by"]) for r in rows] == [
        ("vikram_rep", {"id": manager.pk, "username": "meera_manager", "name": "meera_manager"}),
        ("priya", None),
    ]
    assert rows[0]["previous_owner"]["id"] == first_owner.pk
    assert rows[1]["campaign"]["id"] == campaign.pk and "Monsoon" in rows[1]["reason"]


# === Campaigns =======================================================================================


@pytest.fixture
def campaign_viewer():
    return staff("view_campaign", username="ops")


def test_campaigns_need_view_campaign(rep):
    campaign = CampaignFactory()

    assert api(rep).get(reverse("whatsapp_leads:campaign-list")).status_code == 403
    assert api(rep).get(reverse("whatsapp_leads:campaign-numbers", args=[campaign.pk])).status_code == 403


def test_campaigns_show_rule_state_and_member_counts(campaign_viewer):
    diwali = CampaignFactory(name="Diwali", meta_id="120226305854810001", routing_strategy="weighted")
    CampaignMemberFactory.create_batch(2, campaign=diwali)
    CampaignMemberFactory(campaign=diwali, is_active=False)
    CampaignFactory(name="Akshaya Tritiya", meta_id=None, is_active=False)
    client = api(campaign_viewer)

    rows = client.get(reverse("whatsapp_leads:campaign-list")).json()["results"]
    one = client.get(reverse("whatsapp_leads:campaign-detail", args=[diwali.pk])).json()

    assert [(r["name"], r["active"], r["members"]) for r in rows] == [
        ("Akshaya Tritiya", False, 0),
        ("Diwali", True, 3),
    ]
    assert {k: one[k] for k in ("meta_id", "strategy", "active", "members", "active_members")} == {
        "meta_id": "120226305854810001",
        "strategy": "weighted",
        "active": True,
        "members": 3,
        "active_members": 2,
    }


def test_campaign_numbers_are_the_campaign_stats_service_output(campaign_viewer, rep, other_rep):
    campaign = CampaignFactory()
    LeadFactory.create_batch(3, campaign=campaign, owner=rep, status=Lead.Status.WON)
    LeadFactory(campaign=campaign, owner=rep, status=Lead.Status.NEW)
    LeadFactory(campaign=campaign, owner=other_rep, status=Lead.Status.LOST)
    LeadFactory(campaign=CampaignFactory(), owner=rep)  # another campaign's
    url = reverse("whatsapp_leads:campaign-numbers", args=[campaign.pk])

    body = api(campaign_viewer).get(url, {"days": 7}).json()

    assert (body["total"], body["won"], body["conversion"], body["days"]) == (5, 3, 0.6, 7)
    assert len(body["per_day"]) == 7 and body["per_day"][-1]["leads"] == 5
    assert {row["status"]: row["leads"] for row in body["by_status"]} == {
        "new": 1,
        "contacted": 0,
        "qualified": 0,
        "won": 3,
        "lost": 1,
    }
    assert body["per_rep"] == [
        {"owner_id": rep.pk, "name": "Asha Verma", "leads": 4, "open": 1, "won": 3, "conversion": 0.75},
        {"owner_id": other_rep.pk, "name": "vikram_rep", "leads": 1, "open": 0, "won": 0, "conversion": 0.0},
    ]


def test_numbers_of_a_campaign_without_leads_have_no_conversion_rather_than_zero(campaign_viewer):
    campaign = CampaignFactory()
    url = reverse("whatsapp_leads:campaign-numbers", args=[campaign.pk])

    body = api(campaign_viewer).get(url).json()

    assert (body["total"], body["conversion"], body["days"], len(body["per_day"])) == (0, None, 30, 30)
    assert api(campaign_viewer).get(url, {"days": 0}).status_code == 400
    assert (
        api(campaign_viewer).get(reverse("whatsapp_leads:campaign-numbers", args=[999999])).status_code == 404
    )


# === Queries stay bounded ============================================================================


def test_lead_list_of_30_leads_costs_a_fixed_few_queries(manager, django_assert_max_num_queries):
    for _ in range(30):
        campaign = CampaignFactory()
        lead = LeadFactory(campaign=campaign, owner=UserFactory(), ad=AdFactory(campaign=campaign))
        MessageFactory.create_batch(2, conversation=ConversationFactory(lead=lead))
        assignment_row(lead)
    client = api(manager)
    client.get(leads_url())  # warm the user's permission cache like any later request of a session

    with django_assert_max_num_queries(3):  # count and page (one query per lead or relation would be 30+)
        response = client.get(leads_url())

    rows = response.json()["results"]
    assert len(rows) == 30
    assert all(row["owner"] and row["campaign"] and row["counts"]["messages"] == 2 for row in rows)


def test_transcript_and_assignments_of_30_rows_cost_a_fixed_few_queries(
    manager, django_assert_max_num_queries
):
    lead = LeadFactory(owner=UserFactory())
    conversations = [ConversationFactory(lead=lead, phone_number_id=f"10654035224{n:04d}") for n in range(3)]
    for n in range(30):
        MessageFactory(conversation=conversations[n % 3])
        assignment_row(lead)
    client = api(manager)
    client.get(leads_url())

    for name in ("lead-messages", "lead-assignments"):
        with django_assert_max_num_queries(4):  # the lead, count and page
            response = client.get(reverse(f"whatsapp_leads:{name}", args=[lead.pk]))
        assert len(response.json()["results"]) == 30


def test_campaign_list_of_30_campaigns_costs_a_fixed_few_queries(
    campaign_viewer, django_assert_max_num_queries
):
    for _ in range(30):
        CampaignMemberFactory.create_batch(2, campaign=CampaignFactory())
    client = api(campaign_viewer)
    client.get(reverse("whatsapp_leads:campaign-list"))

    with django_assert_max_num_queries(3):
        response = client.get(reverse("whatsapp_leads:campaign-list"))

    assert [row["members"] for row in response.json()["results"]] == [2] * 30


def assignment_row(lead: Lead) -> LeadAssignment:
    """An automatic assignment row naming a person and a campaign, as routing writes them."""
    return LeadAssignment.objects.create(
        lead=lead, owner=UserFactory(), previous_owner=lead.owner, campaign=CampaignFactory(), reason="test"
    )


def test_the_browsable_api_offers_a_rep_an_edit_form_without_the_owner(rep, manager):
    lead = LeadFactory(owner=rep)

    def form(user) -> str:
        client = APIClient()
        client.force_login(user)
        response = client.get(lead_url(lead), HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        html = response.content.decode()
        return html[html.index('<textarea name="_content"') : html.index("</textarea>")]

    assert "&quot;status&quot;" in form(rep) and "&quot;owner&quot;" not in form(rep)
    assert "&quot;owner&quot;" in form(manager)


# === Odd input found by schemathesis (scripts/api_contract.py): a 400 or a 404, never a 500 ========


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("owner", str(2**63)),  # past a 64-bit id: the driver would overflow
        ("owner", "9" * 5000),  # past Python's int() digit limit
        ("owner", "²"),  # a digit to str.isdigit(), not to int()
        ("campaign", str(2**63)),
    ],
)
def test_an_id_no_key_column_can_hold_is_a_400_naming_the_parameter(manager, param, value):
    response = api(manager).get(leads_url(), {param: value})

    assert response.status_code == 400
    assert param in response.json()


def test_the_largest_64_bit_ids_are_accepted_and_match_nothing(manager):
    LeadFactory(owner=manager)

    assert ids(api(manager).get(leads_url(), {"owner": str(2**63 - 1), "campaign": str(2**63 - 1)})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"created_after": "0001-01-01"},
        {"created_before": "9999-12-31"},
        {"created_after": "0001-01-01T00:00:00+05:30"},
        {"created_before": "9999-12-31T23:59:59-05:00"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_bound_nothing(manager, settings, params):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Kolkata"}
    lead = LeadFactory()

    assert ids(api(manager).get(leads_url(), params)) == [lead.pk]


def test_a_search_with_a_nul_character_is_a_400_on_every_database(manager):
    LeadFactory(name="Rohan")

    response = api(manager).get(leads_url(), {"search": "Ro\x00han"})

    assert response.status_code == 400
    assert "search" in response.json()


def test_a_path_the_api_does_not_have_is_a_json_404(manager):
    client = api(manager)

    for url in (
        "/whatsapp/api/leads/6.5e-3/assignments/",
        "/whatsapp/api/nothing-here/",
        "/whatsapp/api/leads/x/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json" and "detail" in response.json()
    assert client.get("/whatsapp/api/leads").status_code == 301  # APPEND_SLASH still adds the slash


@pytest.mark.parametrize("body", ["5", "null", '"owner"', "[1, 2]", "\x00", "{"])
def test_a_patch_body_that_is_no_object_is_a_400_and_changes_nothing(manager, body):
    lead = LeadFactory(owner=manager, status=Lead.Status.NEW)

    response = api(manager).patch(lead_url(lead), body, content_type="application/json")

    assert response.status_code == 400
    lead.refresh_from_db()
    assert (lead.status, lead.owner_id) == (Lead.Status.NEW, manager.pk)


@pytest.mark.parametrize("value", ["false", "0", "-5", "1.5", "ten"])
def test_a_page_size_that_is_no_positive_whole_number_is_a_400_naming_it(manager, value):
    response = api(manager).get(leads_url(), {"page_size": value})

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def test_a_page_size_of_a_thousand_digits_is_capped_like_any_large_one(manager):
    LeadFactory()

    assert len(ids(api(manager).get(leads_url(), {"page_size": "9" * 1000}))) == 1


@pytest.mark.django_db
def test_patch_refuses_a_number_where_the_schema_says_text(manager):
    lead = LeadFactory(name="Asha")
    client = APIClient()
    client.force_login(manager)
    response = client.patch(reverse("whatsapp_leads:lead-detail", args=[lead.pk]), {"name": 0}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["Must be a string."]}
    lead.refresh_from_db()
    assert lead.name == "Asha"
