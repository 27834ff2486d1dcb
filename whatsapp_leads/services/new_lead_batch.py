"""New ad leads of a batch, set-based: a dozen statements for the run instead of seventeen per lead.

One message in five is a new person clicking an ad: a text, a referral naming a known ad, no
media, no reply context, no STOP/START, from ids no lead (and no lead's history) holds. For those
``inbound.receive_message`` inserts a lead, its thread and the message, attributes the lead to
the ad's campaign and routes it under the campaign's lock. Here a run of them is looked up at
once (stored wamids, leads and history holding their ids, the ads, the campaigns), each lead is
built in memory by the same functions (``leads.new_lead``, ``conversations.new_thread``,
``lead_activity.note_inbound``, ``attribution.attach_first_touch``, ``utm.note``), the rows are
inserted with one INSERT per table, then every campaign of the run is locked once (in id order)
and its leads are routed in order by ``assignment.decide`` from one read of its roster, the run
counting its own picks against the daily caps. ``lead_assigned``, ``lead_created`` and
``message_received`` then fire after commit once per lead, in order, as the one-by-one path
sends them; so do the ``post_save`` of each lead that path sends and its greeting.

Leads are inserted before any campaign is locked, as the one-by-one path does (lead first, then
its campaign), so the two never wait on each other in a cycle. Anything not clearly a new ad lead
(a known sender, an unknown ad, a least-loaded campaign, a second message of a person new in this
run, a host's model-signal receivers...) is left to ``alone`` in its place: the run so far is
committed first. Should the set-based transaction fail (an id committed meanwhile by another
worker, a row the database refuses), it is undone and each message of the run goes alone, so one
bad update fails with its reason while its neighbours are applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import cast

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from ..models import (
    Ad,
    Campaign,
    CampaignMember,
    Conversation,
    Lead,
    LeadAssignment,
    LeadHistory,
    Message,
    WebhookEvent,
)
from ..parsing import InboundMessage, Update
from ..signals import lead_created, message_received
from . import assignment, attribution, conversations, lead_activity, leads, utm
from .bulk import update_rows
from .bulk_insert import insert_rows
from .fitting import TooLong, exact
from .kinds import words_only
from .outbound import greeting
from .routing import eligibility
from .routing.hours import business_time_zone
from .sla import deadline

logger = logging.getLogger(__name__)

Item = tuple[WebhookEvent | None, Update]

# A run is one transaction: on SQLite it holds the database's write lock, which the web server's
# INSERTs wait for, so a long run of new leads is cut into runs of this many.
RUN_LIMIT = 50

ROUTED_FIELDS = ["owner", "sla_started_at", "sla_due_at", "updated_at"]


def shape_is_new_ad_lead(update: Update) -> bool:
    """An ad click of a text from an identified contact, nothing else (decided without the database)."""
    if not words_only(update):  # a text, nothing beyond its words (``kinds.words_only``)
        return False
    referral = update.referral
    if referral is None or not referral.source_id:
        return False
    try:
        exact(Message, "wamid", update.wamid, label="")
        exact(Lead, "wa_id", update.contact.wa_id, label="")
        exact(Lead, "user_id", update.contact.user_id, label="")
        exact(Lead, "source_ad_id", referral.source_id, label="")
        exact(Ad, "meta_id", referral.source_id, label="")
        exact(Lead, "ctwa_clid", referral.ctwa_clid, label="")
        exact(Message, "ctwa_clid", referral.ctwa_clid, label="")
        exact(Conversation, "phone_number_id", update.business.phone_number_id, label="")
        exact(Conversation, "waba_id", update.business.waba_id, label="")
    except TooLong:
        return False  # alone, it fails with its reason
    return True


def model_signals_heard() -> bool:
    """A host listens to pre/post_save of rows written here with ``bulk_*`` (which sends neither)."""
    quiet = (Message, Conversation, LeadAssignment, Campaign, CampaignMember)
    return pre_save.has_listeners(Lead) or any(
        pre_save.has_listeners(model) or post_save.has_listeners(model) for model in quiet
    )  # post_save of Lead is sent below, as ``save()`` sends it


def _ids(message: InboundMessage) -> set[tuple[str, str]]:
    contact = message.contact
    return {(kind, value) for kind, value in (("wa", contact.wa_id), ("user", contact.user_id)) if value}


@dataclass(slots=True)
class _Known:
    """What one look-up found for a run: stored wamids, ids someone holds, ads and their campaigns."""

    wamids: set[str]
    taken: set[tuple[str, str]]
    ads: dict[str, Ad]
    campaigns: dict[int, Campaign]


def _look_up(messages: Sequence[InboundMessage]) -> _Known:
    wamids = {m.wamid for m in messages}
    stored = set(Message.objects.filter(wamid__in=wamids).order_by().values_list("wamid", flat=True))
    wa_ids = {m.contact.wa_id for m in messages if m.contact.wa_id}
    user_ids = {m.contact.user_id for m in messages if m.contact.user_id}
    taken: set[tuple[str, str]] = set()
    for wa_id, user_id in (
        Lead.objects.filter(Q(wa_id__in=wa_ids) | Q(user_id__in=user_ids))
        .order_by()
        .values_list("wa_id", "user_id")
    ):
        taken |= {("wa", wa_id or ""), ("user", user_id or "")}
    # A history naming the id: ``previous_owner`` may give the message to that lead. Any doubt goes alone.
    history = (
        LeadHistory.objects.filter(
            Q(kind=LeadHistory.Kind.WA_ID, previous__in=wa_ids)
            | Q(kind=LeadHistory.Kind.USER_ID, previous__in=user_ids)
        )
        .order_by()
        .values_list("kind", "previous")
    )
    taken |= {("wa" if kind == LeadHistory.Kind.WA_ID else "user", previous) for kind, previous in history}
    ad_ids = {cast(str, m.referral and m.referral.source_id) for m in messages}
    ads = {ad.meta_id: ad for ad in Ad.objects.filter(meta_id__in=ad_ids)}
    campaign_ids = {ad.campaign_id for ad in ads.values() if ad.campaign_id}
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in=campaign_ids)} if campaign_ids else {}
    return _Known(wamids=stored, taken=taken, ads=ads, campaigns=campaigns)


def _may_take(campaign: Campaign | None) -> bool:
    """Routing this campaign's leads from one roster read is exact (least loaded counts stored leads)."""
    return campaign is None or campaign.routing_strategy != Campaign.Strategy.LEAST_LOADED


@dataclass(slots=True)
class _New:
    """One new lead of the run: its rows, and the lead's fields the one-by-one path would save."""

    position: int
    lead: Lead
    thread: Conversation
    row: Message
    fields: list[str]
    record: LeadAssignment | None = None
    reason: str = ""


def _build(message: InboundMessage, event: WebhookEvent | None, known: _Known) -> _New | None:
    """``receive_message`` for a new lead, in memory; None when it is not one after all."""
    referral = message.referral
    assert referral is not None  # shape_is_new_ad_lead
    ad = known.ads.get(referral.source_id)
    if ad is None or not _may_take(known.campaigns.get(ad.campaign_id) if ad.campaign_id else None):
        return None
    lead = leads.new_lead(message)
    thread = conversations.new_thread(lead, message.business, at=message.timestamp)
    row = conversations.inbound_row(thread, message, event=event)
    thread_fields = conversations.count_message(thread, row, save=False)
    # kinds.after_store and consent have nothing to do for a plain text that created its lead.
    fields = lead_activity.note_inbound(lead, row, thread_fields=thread_fields, save_thread=False)
    attribution.attach_first_touch(lead, referral, at=message.timestamp, pending=fields, known_ads=known.ads)
    utm.note(lead, referral=referral, text=message.text, pending=fields)
    return _New(position=-1, lead=lead, thread=thread, row=row, fields=fields)


@dataclass(slots=True)
class _Router:
    """One campaign's routing for a run: locked once, its roster read once, its picks counted."""

    campaign: Campaign | None
    now: datetime
    tz: tzinfo
    roster: eligibility.Roster | None = None
    moved: bool = False

    def decide(self) -> assignment.Decision:
        campaign = self.campaign
        if campaign is None:
            return assignment.without_campaign()
        if not _may_take(campaign):
            raise _Changed(f"campaign {campaign.pk} became least loaded")
        needs_roster = campaign.is_active and campaign.routing_strategy != Campaign.Strategy.FIXED
        if needs_roster and self.roster is None:
            self.roster = eligibility.roster(campaign, now=self.now, tz=self.tz)
        decision = assignment.decide(campaign, now=self.now, roster=self.roster, save=False)
        member = decision.member
        if member is not None and self.roster is not None:
            self.moved = True
            member.assigned_today = getattr(member, "assigned_today", 0) + 1  # type: ignore[attr-defined]
            if member.daily_cap is not None and member.assigned_today >= member.daily_cap:  # type: ignore[attr-defined]
                self.roster = eligibility.Roster(
                    now=self.roster.now,
                    candidates=tuple(c for c in self.roster.candidates if c.member.pk != member.pk),
                )
        return decision

    def save(self) -> None:
        if self.moved and self.campaign is not None:
            self.campaign.save(update_fields=["last_assigned_member", "updated_at"])


class _Changed(Exception):
    """What the run was planned on changed under it: undo the run, everything goes alone."""


@dataclass(slots=True)
class _Run:
    """The new leads planned so far, in order."""

    new: list[_New] = field(default_factory=list)

    def write(self) -> None:
        """Insert the rows, route the leads campaign by campaign, and queue what fires after commit."""
        if not self.new:
            return
        insert_rows([n.lead for n in self.new])  # an id taken meanwhile fails the run
        for n in self.new:
            n.thread.lead = n.lead
        insert_rows([n.thread for n in self.new])
        for n in self.new:
            n.row.conversation = n.thread
        insert_rows([n.row for n in self.new])  # so does a wamid stored meanwhile
        self._route()
        insert_rows([cast(LeadAssignment, n.record) for n in self.new])
        now = timezone.now()
        for n in self.new:
            n.lead.updated_at = now
        update_rows([n.lead for n in self.new], ROUTED_FIELDS)
        for n in self.new:
            self._announce(n)

    def _route(self) -> None:
        """``assignment.assign_new_lead`` for each lead in order, each campaign locked once, in id order."""
        now, tz = timezone.now(), business_time_zone()
        ids = sorted({n.lead.campaign_id for n in self.new if n.lead.campaign_id is not None})
        routers: dict[int | None, _Router] = {None: _Router(None, now, tz)}
        for pk in ids:
            routers[pk] = _Router(assignment.locked_campaign(pk), now, tz)
        for n in self.new:
            decision = routers[n.lead.campaign_id].decide()
            if decision.campaign is not None and decision.campaign.pk == n.lead.campaign_id:
                n.lead.campaign = decision.campaign  # the locked row: the SLA clock reads it
            n.reason = decision.reason
            n.record = assignment.assignment_row(
                n.lead, owner=decision.owner, reason=decision.reason, campaign=decision.campaign, at=now
            )
            n.fields += ["owner", *deadline.on_assigned(n.lead, by=None, at=now)]
        for router in routers.values():
            router.save()

    @staticmethod
    def _announce(n: _New) -> None:
        """What the one-by-one path sends for this lead, in its order (``post_save`` and greeting included)."""
        lead, row = n.lead, n.row
        using = lead._state.db
        post_save.send(sender=Lead, instance=lead, created=True, update_fields=None, raw=False, using=using)
        transaction.on_commit(assignment.announce(cast(LeadAssignment, n.record), reason=n.reason))
        fields = frozenset([*n.fields, "updated_at"])
        post_save.send(
            sender=Lead, instance=lead, created=False, update_fields=fields, raw=False, using=using
        )
        greeting.greet_new_lead(lead)  # the campaign's welcome, queued to go out on commit
        transaction.on_commit(lambda: lead_created.send(sender=Lead, lead=lead, message=row))
        transaction.on_commit(lambda: message_received.send(sender=Message, message=row, lead=lead))


def _plan(items: Sequence[Item], positions: list[int]) -> tuple[_Run, int | None]:
    """Build the new leads in order; stop at the first message that is not one (its position, or None)."""
    messages = [cast(InboundMessage, items[p][1]) for p in positions]  # shape_is_new_ad_lead checked
    known = _look_up(messages)
    run = _Run()
    seen: set[str] = set()
    ids: set[tuple[str, str]] = set()
    for position, message in zip(positions, messages, strict=True):
        if message.wamid in known.wamids or message.wamid in seen:
            continue  # a redelivery: receive_message does nothing either
        mine = _ids(message)
        if mine & known.taken or mine & ids:
            return run, position  # a known sender (or one this run just created): alone
        new = _build(message, items[position][0], known)
        if new is None:
            return run, position
        new.position = position
        seen.add(message.wamid)
        ids |= mine
        run.new.append(new)
    return run, None


def apply_run(items: Sequence[Item], positions: list[int], alone: Callable[[int], None]) -> None:
    """New-lead candidates in order: planned runs set-based, each stop alone, the rest looked up again."""
    while positions:
        chunk, rest = positions[:RUN_LIMIT], positions[RUN_LIMIT:]
        try:
            with transaction.atomic():
                run, stop = _plan(items, chunk)
                run.write()
        except Exception:
            logger.info("%s new leads failed together; applying them one by one", len(chunk), exc_info=True)
            for position in chunk:
                alone(position)
            positions = rest
            continue
        if stop is None:
            positions = rest
            continue
        alone(stop)
        positions = chunk[chunk.index(stop) + 1 :] + rest
