"""New ad leads applied set-based (``new_lead_batch``) leave exactly the rows the one-by-one path leaves.

As in ``test_inbound_batch``: each scenario runs twice on the same seed, once as one
``process_batch`` and once event by event with ``process_event``; rows are compared by natural
key (every column but ids and write times), and so are the assignment log, the campaigns'
routing state and the signals (same arguments, same order).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import test_inbound_batch
from tests.support.factories import (
    AdFactory,
    CampaignFactory,
    CampaignMemberFactory,
    UserFactory,
    WebhookEventFactory,
)
from tests.test_inbound_batch import body, rows
from whatsapp_leads.models import Campaign, CampaignMember, Lead, LeadAssignment, Message, WebhookEvent
from whatsapp_leads.services import processing

pytestmark = pytest.mark.django_db
heard = test_inbound_batch.heard  # the fixture: every signal of the app, in order

AD = "120226305854899001"  # the round-robin campaign's ad
AD_CAPPED = "120226305854899002"  # the weighted campaign's, one member capped at two a day
KNOWN = "919700000001"


@pytest.fixture
def campaigns():
    """A round-robin campaign of three reps and a weighted one (3:1, the heavier capped at 2 a day)."""
    rr = CampaignFactory(name="Home loans", routing_strategy="round_robin")
    for n in range(3):
        CampaignMemberFactory(campaign=rr, user=UserFactory(username=f"rr-{n}"))
    AdFactory(meta_id=AD, campaign=rr)
    weighted = CampaignFactory(name="Car loans", routing_strategy="weighted")
    CampaignMemberFactory(campaign=weighted, user=UserFactory(username="w-heavy"), weight=3, daily_cap=2)
    CampaignMemberFactory(campaign=weighted, user=UserFactory(username="w-light"), weight=1)
    AdFactory(meta_id=AD_CAPPED, campaign=weighted)
    return rr, weighted


def reset() -> None:
    """Every lead and event gone, the campaigns' routing state back to where it started."""
    Lead.objects.all().delete()
    WebhookEvent.objects.all().delete()
    Campaign.objects.update(last_assigned_member=None)
    CampaignMember.objects.update(current_weight=0)
    processing.process_event(WebhookEventFactory(body=body(KNOWN, 0, ad_id=AD)).pk)  # a known lead


def routing() -> dict[str, Any]:
    return {
        "assignments": sorted(
            LeadAssignment.objects.values_list(
                "lead__wa_id", "owner__username", "previous_owner__username", "campaign__name", "reason"
            )
        ),
        "cursors": sorted(Campaign.objects.values_list("name", "last_assigned_member__user__username")),
        "weights": sorted(CampaignMember.objects.values_list("user__username", "current_weight")),
    }


def run_both(bodies: list[bytes], heard, capture) -> tuple[list, list, int, int]:
    """(state batched, state alone, signals batched, signals alone) and the statement counts."""
    results = []
    for mode in ("batch", "alone"):
        reset()
        heard.clear()
        ids = [WebhookEventFactory(body=b).pk for b in bodies]
        with CaptureQueriesContext(connection) as queries, capture(execute=True):
            if mode == "batch":
                processing.process_batch(ids)
            else:
                for pk in ids:
                    processing.process_event(pk)
        results.append(((rows(), routing()), list(heard), len(queries)))
    (batch_state, batch_heard, batch_q), (alone_state, alone_heard, alone_q) = results
    assert batch_state[0] == alone_state[0]
    assert batch_state[1] == alone_state[1]
    assert batch_heard == alone_heard
    return batch_heard, alone_heard, batch_q, alone_q


def new_user(n: int) -> str:
    return f"9196000000{n:02d}"


def test_new_ad_leads_of_one_campaign_get_the_owners_and_signals_of_the_one_by_one_path(
    campaigns, heard, django_capture_on_commit_callbacks
):
    bodies = [body(new_user(n), 10 + n, ad_id=AD) for n in range(7)]
    batch_heard, _, batch_q, alone_q = run_both(bodies, heard, django_capture_on_commit_callbacks)
    assert [call[0] for call in batch_heard] == ["lead_assigned", "lead_created", "message_received"] * 7
    owners = list(LeadAssignment.objects.filter(lead__wa_id__startswith="919600").order_by("lead__wa_id"))
    assert [a.owner.username for a in owners] == ["rr-1", "rr-2", "rr-0", "rr-1", "rr-2", "rr-0", "rr-1"]
    assert batch_q < alone_q / 3  # the set-based path did take them


def test_a_daily_cap_and_weights_are_counted_within_the_run_as_one_by_one(
    campaigns, heard, django_capture_on_commit_callbacks
):
    bodies = [body(new_user(n), 10 + n, ad_id=AD_CAPPED if n % 4 else AD) for n in range(8)]
    run_both(bodies, heard, django_capture_on_commit_callbacks)
    heavy = LeadAssignment.objects.filter(owner__username="w-heavy").count()
    assert heavy == 2  # capped: the rest went to the light one
    assert LeadAssignment.objects.filter(owner__username="w-light").count() == 6 - 2


def test_a_batch_mixing_new_leads_with_what_must_go_alone_converges_on_the_same_rows_and_signals(
    campaigns, heard, django_capture_on_commit_callbacks
):
    bodies = [
        body(new_user(1), 10, ad_id=AD),
        body(KNOWN, 11, ad_id=AD),  # a known lead clicks the ad again
        body(new_user(2), 12, ad_id=AD),
        body(new_user(2), 13, ad_id=AD),  # the same new person again, in the same run
        body(new_user(3), 14, ad_id="120226305854899999"),  # an ad nobody has seen yet
        body(new_user(4), 15, ad_id="120226305854899999"),  # ...then known
        body(new_user(1), 10, ad_id=AD),  # a redelivery in the same batch
        body(new_user(5), 16, ad_id=AD, text="STOP"),  # consent keyword
        body(new_user(6), 17, ad_id=AD),
        body(new_user(6), 18),  # its follow-up
        body(new_user(7), 19),  # an organic chat
        body(new_user(8), 20, ad_id=AD_CAPPED),
    ]
    run_both(bodies, heard, django_capture_on_commit_callbacks)
    assert Lead.objects.count() == 1 + 8


def test_redelivering_the_batch_creates_nothing_and_fires_nothing(
    campaigns, heard, django_capture_on_commit_callbacks
):
    reset()
    bodies = [body(new_user(n), 10 + n, ad_id=AD) for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        processing.process_batch([WebhookEventFactory(body=b).pk for b in bodies])
    before = (rows()["leads"], rows()["messages"], routing())
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = processing.process_batch([WebhookEventFactory(body=b).pk for b in reversed(bodies)])
    assert {o.status for o in outcomes.values()} == {"processed"}
    assert (rows()["leads"], rows()["messages"], routing()) == before
    assert heard == []


def test_a_poisoned_new_lead_fails_alone_with_its_reason_and_its_neighbours_are_applied(
    campaigns, heard, django_capture_on_commit_callbacks
):
    reset()
    good = [WebhookEventFactory(body=body(new_user(n), 10 + n, ad_id=AD)) for n in range(3)]
    poisoned = WebhookEventFactory(body=body(new_user(3), 13, ad_id=AD, message_id="wamid." + "X" * 300))
    after = WebhookEventFactory(body=body(new_user(4), 14, ad_id=AD))
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = processing.process_batch([*[e.pk for e in good], poisoned.pk, after.pk])
    assert outcomes[poisoned.pk].status == "failed"
    assert all(outcomes[e.pk].status == "processed" for e in [*good, after])
    poisoned.refresh_from_db()
    assert "message id is longer than 255 characters" in poisoned.error
    assert not Lead.objects.filter(wa_id=new_user(3)).exists()
    assert [call[1] for call in heard if call[0] == "lead_created"] == [
        f"wamid.{new_user(n)}.{10 + n}" for n in (0, 1, 2, 4)
    ]


@pytest.mark.postgres
def test_a_new_lead_the_database_refuses_undoes_the_set_based_run_and_fails_alone(
    campaigns, heard, django_capture_on_commit_callbacks, db_is_postgres
):
    """A lead row the database itself refuses (here a trigger) fails only its own update."""
    if not db_is_postgres:
        pytest.skip("PostgreSQL trigger")
    reset()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION wl_refuse_lead() RETURNS trigger AS $$ BEGIN"
            " IF NEW.name = 'Poison' THEN RAISE EXCEPTION 'poisoned lead refused'; END IF;"
            " RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER wl_refuse_lead BEFORE INSERT ON whatsapp_leads_lead"
            " FOR EACH ROW EXECUTE FUNCTION wl_refuse_lead()"
        )
    events = [WebhookEventFactory(body=body(new_user(n), 10 + n, ad_id=AD)) for n in range(4)]
    poisoned = WebhookEventFactory(body=body(new_user(9), 19, ad_id=AD, name="Poison"))
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = processing.process_batch(
            [events[0].pk, events[1].pk, poisoned.pk, events[2].pk, events[3].pk]
        )
    assert outcomes[poisoned.pk].status == "failed"
    assert all(outcomes[e.pk].status == "processed" for e in events)
    poisoned.refresh_from_db()
    assert "poisoned lead refused" in poisoned.error
    assert Lead.objects.filter(wa_id__startswith="919600").count() == 4
    assert Message.objects.filter(direction="inbound").count() == 1 + 4
    owners = LeadAssignment.objects.filter(lead__wa_id__startswith="919600").order_by("lead__wa_id")
    assert [a.owner.username for a in owners] == ["rr-1", "rr-2", "rr-0", "rr-1"]
    assert [call[0] for call in heard] == ["lead_assigned", "lead_created", "message_received"] * 4


def test_a_host_listening_to_assignment_rows_gets_every_lead_one_by_one(
    campaigns, heard, django_capture_on_commit_callbacks
):
    from django.db.models.signals import post_save

    saved: list[str] = []

    def receiver(sender, instance, created, **kwargs):
        saved.append(instance.lead.wa_id)

    post_save.connect(receiver, sender=LeadAssignment)
    try:
        reset()
        saved.clear()
        bodies = [body(new_user(n), 10 + n, ad_id=AD) for n in range(3)]
        with django_capture_on_commit_callbacks(execute=True):
            processing.process_batch([WebhookEventFactory(body=b).pk for b in bodies])
    finally:
        post_save.disconnect(receiver, sender=LeadAssignment)
    assert saved == [new_user(n) for n in range(3)]


def test_new_leads_of_a_greeting_campaign_are_each_greeted_once_as_one_by_one(
    campaigns, broker, django_capture_on_commit_callbacks
):
    from whatsapp_leads.queueing import SEND_MESSAGE

    rr, _ = campaigns
    rr.welcome_text = "Thanks for writing! A rep will call you shortly."
    rr.save()
    greeted = {}
    now = int(time.time())  # a greeting goes out within the 24-hour window only
    for mode in ("batch", "alone"):
        reset()
        broker()
        bodies = [body(new_user(n), 10 + n, ad_id=AD, at=now - 60 + n) for n in range(4)]
        ids = [WebhookEventFactory(body=b).pk for b in bodies]
        with django_capture_on_commit_callbacks(execute=True):
            if mode == "batch":
                processing.process_batch(ids)
            else:
                for pk in ids:
                    processing.process_event(pk)
        greeted[mode] = (
            sorted(
                Message.objects.filter(origin="greeting").values_list(
                    "conversation__lead__wa_id", "text", "status", "conversation__lead__owner__username"
                )
            ),
            [name for name, _ in broker()],
        )
    assert greeted["batch"] == greeted["alone"]
    assert len(greeted["batch"][0]) == 4  # one per new lead (the known lead wrote long ago)
    assert greeted["batch"][1].count(SEND_MESSAGE) == 4
