"""Two SLA checkers at the same moment on real PostgreSQL: every breach is applied exactly once.

Each checker runs in its own thread with its own database connection (Django opens one per
thread), released together by a barrier. ``FOR UPDATE SKIP LOCKED`` makes them share the backlog;
the lead row lock and the (lead, clock start, level) unique constraint make sure that a lead both
reach is applied by one of them only.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.support.factories import CampaignFactory, CampaignMemberFactory, LeadFactory, UserFactory
from whatsapp_leads.models import Lead, LeadAssignment, SlaBreach
from whatsapp_leads.services.sla.breaches import CheckReport, check_due

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LEADS = 60
SLA = timedelta(minutes=10)


def overdue_backlog(*, action: str) -> list:
    campaign = CampaignFactory(first_response_sla=SLA, sla_action=action, sla_clock="wall")
    team = [UserFactory(username=f"race-sla-{n}") for n in range(3)]
    for user in team:
        CampaignMemberFactory(campaign=campaign, user=user)
    started = timezone.now() - timedelta(hours=1)
    for n in range(LEADS):
        LeadFactory(
            campaign=campaign, owner=team[n % 3], first_inbound_at=started, inbound_count=1,
            sla_started_at=started, sla_due_at=started + SLA + timedelta(seconds=n),
        )  # fmt: skip
    return team


def race(checkers: int = 2, *, batch_size: int = 7) -> list[CheckReport]:
    barrier = threading.Barrier(checkers)
    reports: list[CheckReport] = []
    errors: list[BaseException] = []
    now = timezone.now()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            reports.append(check_due(now=now, batch_size=batch_size))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(checkers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(reports) == checkers
    return reports


def test_two_checkers_reassign_each_overdue_lead_exactly_once():
    team = overdue_backlog(action="reassign")

    reports = race()

    assert sum(len(r.breaches) for r in reports) == LEADS
    per_lead = Counter(SlaBreach.objects.values_list("lead_id", flat=True))
    assert len(per_lead) == LEADS and set(per_lead.values()) == {1}
    sla_moves = Counter(
        LeadAssignment.objects.filter(reason__startswith="No reply within 10 min").values_list(
            "lead_id", flat=True
        )
    )
    assert len(sla_moves) == LEADS and set(sla_moves.values()) == {1}
    for breach in SlaBreach.objects.select_related("lead"):
        assert breach.new_owner_id == breach.lead.owner_id != breach.owner_id
    assert {lead.owner_id for lead in Lead.objects.all()} <= {u.pk for u in team}
    assert not Lead.objects.filter(sla_due_at__lte=timezone.now()).exists()


def test_four_checkers_notify_each_owner_once_and_share_the_backlog():
    overdue_backlog(action="notify")

    reports = race(4, batch_size=5)

    assert sorted(SlaBreach.objects.values_list("lead_id", flat=True)) == sorted(
        Lead.objects.values_list("pk", flat=True)
    )
    assert sum(len(r.breaches) for r in reports) == LEADS
    assert sum(1 for r in reports if r.breaches) >= 2  # SKIP LOCKED: they worked side by side
