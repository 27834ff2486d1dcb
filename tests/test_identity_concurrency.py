"""Two workers giving the same business-scoped user id (BSUID) to a person at the same moment.

A person we know by WhatsApp number writes twice at once: one message carries their number and
their new BSUID (so the known lead gets the BSUID), the other carries only the BSUID (Meta withheld
the number), which finds no lead and creates one. Both write ``user_id`` at the same instant, and
the unique constraint lets only one through. Both events must still be processed on their first
attempt, converging on one lead per person, not fail and wait for a retry.
"""

from __future__ import annotations

import time

import pytest

from tests.support.factories import LeadFactory, WebhookEventFactory
from tests.support.procs import Racers, database_url
from whatsapp_leads.models import Lead, LeadHistory, Message, WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps, inbound

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PEOPLE = 6


def _person(n: int) -> tuple[str, str]:
    return f"9198330{n:05d}", f"IN.13491208655{n:05d}"


@pytest.mark.parametrize("known_by", ["wa_id", "nothing"])
def test_number_plus_bsuid_and_bsuid_only_at_the_same_moment_make_one_lead_each_first_time(known_by):
    now = int(time.time())
    events: list[tuple[WebhookEvent, WebhookEvent]] = []
    for n in range(PEOPLE):
        wa_id, bsuid = _person(n)
        if known_by == "wa_id":
            LeadFactory(wa_id=wa_id, phone=f"+{wa_id}", name=f"Person {n}", last_message_at=None)
        both = inbound(wa_id=wa_id, user_id=bsuid, name=f"Person {n}", text="with my number", timestamp=now)
        bsuid_only = inbound(
            wa_id="", user_id=bsuid, name=f"Person {n}", text="number withheld", timestamp=now
        )
        events.append((WebhookEventFactory(body=dumps(both)), WebhookEventFactory(body=dumps(bsuid_only))))
    racers = Racers(database_url=database_url())
    for pair in events:  # each racer is one worker process holding one of the two messages
        racers.spawn([pair[0].pk])
        racers.spawn([pair[1].pk])

    outcomes = racers.release()

    failed = {e.pk: e.error for e in WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED)}
    assert failed == {}
    assert outcomes == ["processed"] * (2 * PEOPLE)
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}
    assert Lead.objects.count() == PEOPLE
    for n in range(PEOPLE):
        wa_id, bsuid = _person(n)
        lead = Lead.objects.get(user_id=bsuid)
        assert lead.wa_id == wa_id
        texts = set(Message.objects.filter(conversation__lead=lead).values_list("text", flat=True))
        assert texts == {"with my number", "number withheld"}
    # where the race made a second lead, it was merged into the person's lead, and says so
    merges = LeadHistory.objects.filter(kind=LeadHistory.Kind.MERGED).count()
    assert merges <= PEOPLE
