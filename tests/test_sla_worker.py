"""The first-response SLA end to end with real processes: signed POSTs -> view -> Redis -> a Celery
worker subprocess -> PostgreSQL, then ``manage.py whatsapp_check_sla`` once the SLA ran out.

A campaign with a 5-second SLA that re-assigns: the lead nobody answers goes to the other rep;
the lead a rep answered (from the WhatsApp Business app, an echo the worker stores) within the
5 seconds stays where it is and never breaches.
"""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory, UserFactory
from tests.support.procs import wait_for
from tests.support.world import AD_ID
from whatsapp_leads.models import Lead, LeadAssignment, Message, SlaBreach, WebhookEvent
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    contact,
    envelope,
    inbound,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 30.0
UNANSWERED, ANSWERED = "919833300001", "919833300002"


def echo_of_a_reply(to: str, *, at: int) -> dict:
    message = {"from": DISPLAY_NUMBER, "to": to, "id": f"wamid.echo-{to}", "timestamp": str(at),
               "type": "text", "text": {"body": "Yes, we can call you at 5"}}  # fmt: skip
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
             "contacts": [contact(wa_id=to, name="Buyer")], "message_echoes": [message]}  # fmt: skip
    return envelope(value, field="smb_message_echoes")


def processed(count: int):
    return lambda: WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() >= count


def test_a_five_second_sla_reassigns_the_unanswered_lead_and_spares_the_answered_one(workers, post_webhook):
    campaign = CampaignFactory(name="Car loans", first_response_sla=timedelta(seconds=5),
                               sla_action="reassign", sla_clock="wall")  # fmt: skip
    reps = [UserFactory(username=f"worker-sla-{n}") for n in range(2)]
    for rep in reps:
        CampaignMemberFactory(campaign=campaign, user=rep)
    AdFactory(meta_id=AD_ID, campaign=campaign)
    workers.start(concurrency=1)

    written = int(time.time())
    for wa_id in (UNANSWERED, ANSWERED):
        assert (
            post_webhook(inbound(wa_id=wa_id, name="Buyer", ad_id=AD_ID, timestamp=written)).status_code
            == 200
        )
    wait_for(processed(2), timeout=TIMEOUT, what="the worker to store both leads")
    answered = Lead.objects.get(wa_id=ANSWERED)
    assert answered.sla_due_at is not None
    # Typed on the phone two seconds after the message (Meta's clock), whenever its webhook is processed.
    assert post_webhook(echo_of_a_reply(ANSWERED, at=written + 2)).status_code == 200
    wait_for(processed(3), timeout=TIMEOUT, what="the worker to store the reply")
    answered.refresh_from_db()
    assert Message.objects.filter(direction="outbound").count() == 1
    assert answered.first_response_seconds == 2
    assert answered.sla_due_at is None

    unanswered = Lead.objects.get(wa_id=UNANSWERED)
    first_owner = unanswered.owner
    wait_for(lambda: time.time() > unanswered.sla_due_at.timestamp() + 0.5, timeout=TIMEOUT, what="the SLA")
    out = StringIO()
    call_command("whatsapp_check_sla", stdout=out)

    assert "Done: 1 breach(es) applied (1 reassigned)" in out.getvalue()
    unanswered.refresh_from_db()
    assert unanswered.owner != first_owner and unanswered.owner in reps
    record = LeadAssignment.objects.filter(lead=unanswered).latest("id")
    assert record.reason.startswith("No reply within 5 s (SLA).")
    assert unanswered.sla_due_at is not None  # a fresh SLA for the new owner
    assert not SlaBreach.objects.filter(lead__wa_id=ANSWERED).exists()
    assert Lead.objects.get(wa_id=ANSWERED).owner == answered.owner
