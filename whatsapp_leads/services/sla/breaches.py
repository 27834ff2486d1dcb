"""Applying first-response SLA breaches: the checker that beat and ``whatsapp_check_sla`` run.

A lead is due when ``sla_due_at`` has passed (an indexed column, so finding them is cheap). What
happens depends on the campaign's ``sla_action``:

- ``notify``: level 1 tells the owner (an e-mail after commit, see ``sla.notify``); if nobody
  answers for a second SLA period, level 2 tells the campaign's managers. A lead without an owner
  goes to the managers at once. Without managers there is no level 2.
- ``reassign``: the lead goes to the next eligible member by the campaign's routing rule, never
  the same rep (``assignment.choose_other_owner``), recorded in the assignment history as "No
  reply within 10 min (SLA)", with a fresh SLA for the new owner. Nobody else eligible: recorded
  as such, the lead stays, the managers are told. After ``SLA_MAX_REASSIGNMENTS`` automatic
  re-assignments of one lead, the next breach goes to the managers instead of bouncing further.

Each breach is one ``SlaBreach`` row, unique per (lead, clock start, level): with the lead's row
lock that is what makes two checkers racing on one lead apply it once. Due leads are taken in
batches (``SLA_BATCH_SIZE``), each batch one short transaction, with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL so parallel checkers share a backlog instead of queueing behind each other, and in
(due time, id) order past the last one seen, so a lead that fails is not retried forever in the
same run. ``sla_breached`` is sent after each batch commits.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ...conf import app_settings
from ...models import Campaign, Lead, SlaBreach
from ...signals import sla_breached
from .. import assignment
from . import deadline

log = logging.getLogger(__name__)
Action = SlaBreach.Action


@dataclass
class CheckReport:
    """What one run of the checker did.

    Counts always; the breach rows themselves only when the caller asked to keep them (a test, a
    small run), so a run through a backlog of 100 000 overdue leads holds one batch in memory at a
    time, never the whole backlog. ``on_batch`` sees every batch either way.
    """

    keep: bool = True
    breaches: list[SlaBreach] = field(default_factory=list)
    applied: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    cleared: int = 0
    failed: int = 0
    batches: int = 0

    def add(self, applied: list[SlaBreach]) -> None:
        self.applied += len(applied)
        self.actions.update(b.action for b in applied)
        if self.keep:
            self.breaches += applied

    def as_dict(self) -> dict[str, int]:
        return {"breaches": self.applied, **self.actions, "cleared": self.cleared, "failed": self.failed}


def _who(user: object) -> str:
    if user is None:
        return "nobody"
    get_username = getattr(user, "get_username", None)
    return str(get_username() if callable(get_username) else user)


def reason_for(campaign: Campaign) -> str:
    """``No reply within 10 min (SLA)``: the assignment history's words for a re-assignment.

    The same words for either clock (the breach row keeps which one counted).
    """
    return f"No reply within {deadline.describe(campaign.first_response_sla or timedelta(0))} (SLA)"


def _level(lead: Lead, *, started_at: datetime) -> int:
    """1 for the clock's first breach; 2 once level 1 of the same clock is on record."""
    done = SlaBreach.objects.filter(lead=lead, started_at=started_at).order_by("-level").first()
    return 1 if done is None else done.level + 1


def _reassign(lead: Lead, campaign: Campaign, *, now: datetime) -> tuple[str, str, Any, list[str]]:
    """Hand the lead on; (action, detail, new owner, lead fields the caller must save)."""
    done = SlaBreach.objects.filter(lead=lead, action=Action.REASSIGNED).count()
    limit = app_settings.SLA_MAX_REASSIGNMENTS
    if limit is not None and done >= limit:
        detail = f"Re-assigned {done} times without an answer: the managers are told instead"
        return Action.ESCALATED, detail, None, deadline.clear(lead)
    decision = assignment.choose_other_owner(lead, now=now)
    if decision is None or decision.owner is None:
        return (
            Action.NOBODY,
            "Nobody else eligible: the lead stays with its owner",
            None,
            deadline.clear(lead),
        )
    previous = lead.owner
    # assign() saves the lead (owner and the new owner's fresh SLA clock).
    assignment.assign(
        lead,
        owner=decision.owner,
        reason=f"{reason_for(campaign)}. {decision.reason}",
        campaign=decision.campaign,
        at=now,
    )
    detail = f"Re-assigned from {_who(previous)} to {_who(decision.owner)}"
    return Action.REASSIGNED, detail, decision.owner, []


def _notify(lead: Lead, campaign: Campaign, *, level: int) -> tuple[str, str, list[str]]:
    has_managers = campaign.managers.exists()
    if level == 1 and lead.owner_id is not None:
        fields: list[str] = []
        if has_managers:  # level 2 is due one more SLA period later
            assert lead.sla_due_at is not None
            lead.sla_due_at = deadline.due_after(campaign, start=lead.sla_due_at, owner_id=lead.owner_id)
            fields.append("sla_due_at")
        else:
            fields = deadline.clear(lead)
        return Action.NOTIFIED, f"Owner {_who(lead.owner)} notified", fields
    who = "managers notified" if has_managers else "no managers to notify"
    detail = f"Still unanswered: {who}" if level > 1 else f"No owner: {who}"
    return Action.ESCALATED, detail, deadline.clear(lead)


def apply_breach(lead: Lead, *, now: datetime) -> SlaBreach | None:
    """Apply the breach of a locked, due lead; None when it turned out not to be due.

    Call inside a transaction with the lead's row locked (``check_due`` does).
    """
    campaign = deadline.campaign_sla(lead)
    if lead.sla_due_at is None or lead.sla_due_at > now:
        return None
    if campaign is None or lead.sla_started_at is None or not deadline.awaits_first_answer(lead):
        fields = deadline.clear(lead)  # answered, closed, or the campaign dropped its SLA meanwhile
        lead.save(update_fields=[*fields, "updated_at"])
        return None
    started_at, owner, due_at = lead.sla_started_at, lead.owner, lead.sla_due_at
    level = _level(lead, started_at=started_at)
    new_owner: Any = None
    if campaign.sla_action == Campaign.SlaAction.REASSIGN and level == 1:
        action, detail, new_owner, fields = _reassign(lead, campaign, now=now)
    else:
        action, detail, fields = _notify(lead, campaign, level=level)
    breach = SlaBreach(
        lead=lead, campaign=campaign, owner=owner, new_owner=new_owner,
        sla=campaign.first_response_sla, clock=campaign.sla_clock, level=level,
        started_at=started_at, due_at=due_at, action=action, detail=detail[:255], breached_at=now,
    )  # fmt: skip
    breach.save()  # IntegrityError: another checker applied it (the caller's savepoint undoes ours)
    lead.sla_breached_at = now
    lead.save(update_fields=[*fields, "sla_breached_at", "updated_at"])
    transaction.on_commit(lambda: sla_breached.send(sender=Lead, lead=lead, breach=breach))
    return breach


def _due(now: datetime, *, after: tuple[datetime, int] | None, size: int) -> list[Lead]:
    leads = Lead.objects.filter(sla_due_at__lte=now)
    if after is not None:
        leads = leads.filter(Q(sla_due_at__gt=after[0]) | Q(sla_due_at=after[0], pk__gt=after[1]))
    skip = connection.features.has_select_for_update_skip_locked
    leads = leads.select_for_update(skip_locked=skip, of=("self",))  # only the leads: not their owners
    return list(leads.select_related("campaign", "owner").order_by("sla_due_at", "pk")[:size])


def check_due(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[list[SlaBreach]], None] | None = None,
    keep_breaches: bool = True,
) -> CheckReport:
    """Apply every breach due at ``now`` (default: the wall clock), batch by batch."""
    now = now or timezone.now()
    size = batch_size or app_settings.SLA_BATCH_SIZE
    report = CheckReport(keep=keep_breaches)
    after: tuple[datetime, int] | None = None
    while True:
        applied: list[SlaBreach] = []
        with transaction.atomic():
            leads = _due(now, after=after, size=size)
            if leads:  # the cursor is where the batch was selected, before breaches move due times
                after = (leads[-1].sla_due_at or now, leads[-1].pk)
            for lead in leads:
                try:
                    with transaction.atomic():
                        breach = apply_breach(lead, now=now)
                except IntegrityError:
                    log.info("SLA breach of lead %s already applied by another checker", lead.pk)
                    continue
                except Exception:
                    log.exception("could not apply the SLA breach of lead %s", lead.pk)
                    report.failed += 1
                    continue
                if breach is None:
                    report.cleared += 1
                else:
                    applied.append(breach)
        if not leads:
            return report
        report.batches += 1
        report.add(applied)
        if on_batch is not None:
            on_batch(applied)
