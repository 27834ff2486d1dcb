"""The inbox a rep works from: who is waiting, for how long, unread counts, live rows, row rule."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.support.delivery import deliver
from tests.support.factories import CampaignFactory, CampaignMemberFactory, LeadFactory
from tests.support.outbound import lead_who_wrote
from tests.support.people import logged_in
from whatsapp_leads.models import Lead
from whatsapp_leads.providers.meta.simulation import inbound
from whatsapp_leads.services.outbound import outbox

pytestmark = pytest.mark.django_db

INBOX = "admin:whatsapp_leads_inbox"
ROWS = "admin:whatsapp_leads_inbox_rows"


def waiting(owner, *, minutes: float, name: str, **fields) -> Lead:
    now = timezone.now()
    return LeadFactory(owner=owner, name=name, awaiting_reply_since=now - timedelta(minutes=minutes),
                       last_activity_at=now - timedelta(minutes=minutes), **fields)  # fmt: skip


def answered(owner, *, minutes: float, name: str, **fields) -> Lead:
    return LeadFactory(owner=owner, name=name, last_activity_at=timezone.now() - timedelta(minutes=minutes),
                       **fields)  # fmt: skip


def names_in(html: str, *names: str) -> list[str]:
    found = [(html.index(f">{n}</a>"), n) for n in names if f">{n}</a>" in html]
    return [n for _, n in sorted(found)]


def test_the_inbox_lists_awaiting_leads_longest_wait_first_then_the_rest_by_last_message(rep):
    answered(rep, minutes=1, name="Recent answered")
    waiting(rep, minutes=5, name="Waiting 5")
    answered(rep, minutes=30, name="Older answered")
    waiting(rep, minutes=90, name="Waiting 90")
    answered(rep, minutes=2, name="Won long ago", status=Lead.Status.WON)

    html = logged_in(rep).get(reverse(INBOX)).content.decode()

    names = ("Recent answered", "Waiting 5", "Older answered", "Waiting 90", "Won long ago")
    assert names_in(html, *names) == ["Waiting 90", "Waiting 5", "Recent answered", "Older answered"]
    assert "1 h 30 min" in html  # how long the oldest has waited


def test_a_lost_lead_who_writes_again_comes_back_to_the_top(rep):
    waiting(rep, minutes=10, name="Waiting 10")
    deliver(inbound(wa_id="919811122233", name="Lost Lakshmi", text="Is the offer still on?",
                    timestamp=int(time.time()) - 3600))  # fmt: skip
    lead = Lead.objects.get(wa_id="919811122233")
    Lead.objects.filter(pk=lead.pk).update(owner=rep, status=Lead.Status.LOST)

    html = logged_in(rep).get(reverse(INBOX)).content.decode()

    assert names_in(html, "Waiting 10", "Lost Lakshmi") == ["Lost Lakshmi", "Waiting 10"]
    assert "Them:</span> Is the offer still on?" in html


def test_a_rep_sees_only_their_own_leads_even_asking_for_all_or_unassigned(rep, other_rep):
    waiting(rep, minutes=3, name="Mine")
    waiting(other_rep, minutes=30, name="Theirs", unread_count=4)
    waiting(None, minutes=60, name="Nobody lead")
    client = logged_in(rep)

    for query in ("", "?scope=all", "?scope=unassigned", "?view=awaiting"):
        for url in (reverse(INBOX) + query, reverse(ROWS) + query):
            html = client.get(url).content.decode()
            assert ">Mine</a>" in html, url
            assert "Theirs" not in html and "Nobody lead" not in html, url
    page = client.get(reverse(INBOX)).content.decode()
    assert "?scope=all" not in page and "?scope=unassigned" not in page  # no tabs a rep cannot use
    assert 'data-unread="0"' in page  # the other rep's 4 unread are not counted


def test_managers_get_the_unassigned_and_all_tabs(manager, rep):
    waiting(rep, minutes=3, name="Rep lead")
    waiting(None, minutes=30, name="Nobody lead")
    client = logged_in(manager)

    everything = client.get(reverse(INBOX) + "?scope=all").content.decode()
    unassigned = client.get(reverse(INBOX) + "?scope=unassigned").content.decode()
    mine = client.get(reverse(INBOX)).content.decode()

    assert names_in(everything, "Rep lead", "Nobody lead") == ["Nobody lead", "Rep lead"]
    assert names_in(unassigned, "Rep lead", "Nobody lead") == ["Nobody lead"]
    assert names_in(mine, "Rep lead", "Nobody lead") == []


def test_follow_ups_due_view_shows_only_leads_whose_follow_up_has_come(rep):
    now = timezone.now()
    answered(
        rep, minutes=5, name="Due", follow_up_at=now - timedelta(minutes=1), follow_up_note="Send EMI plan"
    )
    answered(rep, minutes=5, name="Tomorrow", follow_up_at=now + timedelta(days=1))

    html = logged_in(rep).get(reverse(INBOX) + "?view=followups").content.decode()

    assert names_in(html, "Due", "Tomorrow") == ["Due"]
    assert "Follow-up due" in html


def test_the_inbox_is_linked_from_the_admin_index_and_the_lead_list(rep):
    client = logged_in(rep)
    url = reverse(INBOX)
    assert url == "/admin/whatsapp_leads/inbox/"
    assert f'href="{url}"' in client.get(reverse("admin:index")).content.decode()
    assert f'href="{url}"' in client.get(reverse("admin:whatsapp_leads_lead_changelist")).content.decode()


def test_the_page_polls_its_rows_with_the_vendored_htmx_and_no_cdn(rep):
    html = logged_in(rep).get(reverse(INBOX)).content.decode()
    assert 'hx-trigger="every 4s"' in html
    assert f'hx-get="{reverse(ROWS)}?' in html
    assert "/static/whatsapp_leads/vendor/htmx.min.js" in html
    assert "https://" not in html.split("<body")[0]  # nothing in <head> comes from elsewhere


def test_a_new_inbound_message_shows_in_the_polled_rows_with_its_unread_count(rep):
    client = logged_in(rep)
    lead = lead_who_wrote(owner=rep, name="Asha")
    before = client.get(reverse(ROWS)).content.decode()
    assert "Second question" not in before

    deliver(inbound(wa_id=lead.wa_id, name="Asha", text="Second question"))

    after = client.get(reverse(ROWS)).content.decode()
    assert "Second question" in after
    assert 'data-unread="1"' in after


def test_inbound_messages_count_unread_and_set_the_wait_from_the_earliest_unanswered(rep):
    t = int(time.time()) - 600
    deliver(inbound(wa_id="919800000001", text="first", timestamp=t))
    deliver(inbound(wa_id="919800000001", text="second", timestamp=t + 60))
    lead = Lead.objects.get()
    assert lead.unread_count == 2
    assert lead.awaiting_reply_since.timestamp() == t
    assert (lead.last_message_preview, lead.last_message_direction) == ("second", "inbound")

    deliver(inbound(wa_id="919800000001", text="late copy of an older one", timestamp=t - 60))
    lead.refresh_from_db()
    assert lead.awaiting_reply_since.timestamp() == t - 60  # the earliest unanswered
    assert lead.last_message_preview == "second"  # still the latest


def test_a_reps_reply_ends_the_wait_but_an_automatic_greeting_does_not(rep, broker):
    lead = lead_who_wrote(owner=rep)
    Lead.objects.filter(pk=lead.pk).update(awaiting_reply_since=lead.last_message_at)

    outbox.queue_send(lead, kind="text", content={"body": "Welcome!"}, origin="greeting")
    lead.refresh_from_db()
    assert lead.awaiting_reply_since is not None
    assert lead.last_message_direction == "outbound"

    outbox.queue_send(lead, kind="text", content={"body": "When may I call?"}, by=rep, origin="rep")
    lead.refresh_from_db()
    assert lead.awaiting_reply_since is None
    assert lead.last_reply_at is not None
    assert lead.last_message_preview == "When may I call?"


def test_opening_the_lead_clears_unread_for_its_owner_only(rep, manager):
    lead = lead_who_wrote(owner=rep)
    Lead.objects.filter(pk=lead.pk).update(unread_count=3)
    change = reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])

    logged_in(manager).get(change)
    lead.refresh_from_db()
    assert lead.unread_count == 3

    logged_in(rep).get(change)
    lead.refresh_from_db()
    assert lead.unread_count == 0


def test_the_tab_title_carries_the_unread_total(rep):
    waiting(rep, minutes=3, name="A", unread_count=2)
    waiting(rep, minutes=4, name="B", unread_count=3)
    html = logged_in(rep).get(reverse(INBOX)).content.decode()
    assert "<title>(5) Inbox" in html


def test_managers_are_warned_of_campaigns_without_members(manager, rep):
    CampaignFactory(name="Auto: New ad 1209")
    staffed = CampaignFactory(name="Staffed")
    CampaignMemberFactory(campaign=staffed, user=rep)

    managers_page = logged_in(manager).get(reverse(INBOX)).content.decode()
    reps_page = logged_in(rep).get(reverse(INBOX)).content.decode()

    assert "Campaigns needing a team" in managers_page and "Auto: New ad 1209" in managers_page
    assert "Staffed</a>" not in managers_page
    assert "Campaigns needing a team" not in reps_page


def test_a_user_without_lead_permissions_cannot_open_the_inbox(other_rep):
    from tests.support.people import staff

    outsider = staff()
    assert logged_in(outsider).get(reverse(INBOX)).status_code == 403
    assert logged_in(outsider).get(reverse(ROWS)).status_code == 403


@pytest.mark.parametrize("url_name", [INBOX, ROWS])
def test_inbox_queries_do_not_grow_with_rows(rep, url_name):
    client = logged_in(rep)
    for i in range(3):
        waiting(rep, minutes=i + 1, name=f"First {i}", campaign=CampaignFactory())
    client.get(reverse(url_name))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(url_name))
    for i in range(30):
        waiting(rep, minutes=i + 10, name=f"More {i}", campaign=CampaignFactory())
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(url_name))
    assert len(many) == len(few)


def test_lead_list_queries_do_not_grow_with_rows(rep):
    client = logged_in(rep)
    url = reverse("admin:whatsapp_leads_lead_changelist")
    for _ in range(3):
        waiting(rep, minutes=1, name="x", campaign=CampaignFactory())
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(30):
        waiting(rep, minutes=1, name="y", campaign=CampaignFactory())
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
