"""Plain follow-ups of a batch, set-based: a few statements for the run instead of a dozen per message.

Four messages in five are a known lead writing again: a text, no ad, no media, no reply context,
no STOP/START, from a contact whose ids and name the lead already holds. For those
``inbound.receive_message`` only inserts the message and moves counters and timestamps forward
on the thread and the lead. Here a run of them is looked up at once (stored wamids, the leads,
locked in id order, and their threads), stepped in memory with the same rules (``engagement.Tally``,
``conversations.inbound_row``), and written with one INSERT and one UPDATE per table, in one
transaction; ``message_received`` then fires after commit once per message, in order, with the
lead and thread as they stood after that message, as the one-by-one path sends them.

Anything not clearly plain (a new lead, an ad, an identity change, an older message that needs a
recomputation, a host's model-signal receivers...) is left to ``alone`` in its place in the
order: the run so far is committed first, and the rest is looked up again after it. Should the
set-based transaction fail, it is undone and every message of the run is applied alone, so one
bad update fails with its reason while its neighbours are applied.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from ..models import Conversation, Lead, Message, WebhookEvent
from ..parsing import InboundMessage, Update
from ..signals import message_received
from . import new_lead_batch
from .bulk import update_rows
from .bulk_insert import insert_rows
from .conversations import inbound_row
from .engagement import Tally
from .fitting import TooLong, exact, fit
from .kinds import words_only
from .routing.business_clock import BusinessClock
from .rows import loaded

logger = logging.getLogger(__name__)

Item = tuple[WebhookEvent | None, Update]

# What the set-based path writes; a lead's updated_at goes with them (``save`` would set it).
CONVERSATION_FIELDS = [
    "message_count",
    "inbound_count",
    "first_inbound_at",
    "last_inbound_at",
    "awaiting_reply_since",
    "last_message_at",
    "started_at",
]
LEAD_FIELDS = [
    "last_message_at",
    "unread_count",
    "last_activity_at",
    "last_message_preview",
    "last_message_direction",
    "first_inbound_at",
    "last_inbound_at",
    "inbound_count",
    "awaiting_reply_since",
    "updated_at",
]


def _shape_is_plain(update: Update) -> bool:
    """A text from an identified contact with nothing beyond its words, and no ad (``kinds.words_only``)."""
    if not words_only(update) or update.referral:
        return False
    try:
        exact(Message, "wamid", update.wamid, label="message id")
        exact(Conversation, "phone_number_id", update.business.phone_number_id, label="")
    except TooLong:
        return False  # alone, it fails with its reason
    return True


def _model_signals_heard() -> bool:
    """A host listens to pre/post_save of the rows written here: ``bulk_*`` would not send them."""
    return (
        pre_save.has_listeners(Message)
        or post_save.has_listeners(Message)
        or pre_save.has_listeners(Conversation)
        or post_save.has_listeners(Conversation)
        or pre_save.has_listeners(Lead)
    )  # post_save of Lead is sent below, as ``save(update_fields=...)`` sends it


@dataclass(slots=True)
class _Known:
    """What one look-up found for a run: stored wamids, leads by id, threads by (lead, number)."""

    wamids: set[str]
    by_wa: dict[str, Lead]
    by_user: dict[str, Lead]
    threads: dict[tuple[int, str], Conversation]

    def lead_for(self, message: InboundMessage) -> Lead | None:
        """The one lead both ids agree on (``identity.find_and_merge`` without a merge), else None."""
        contact = message.contact
        by_user = self.by_user.get(contact.user_id) if contact.user_id else None
        by_wa = self.by_wa.get(contact.wa_id) if contact.wa_id else None
        if by_user and by_wa and by_user.pk != by_wa.pk:
            return None  # two leads for one person: a merge
        return by_user or by_wa


def _look_up(messages: Sequence[InboundMessage]) -> _Known:
    wamids = {m.wamid for m in messages}
    stored = set(Message.objects.filter(wamid__in=wamids).order_by().values_list("wamid", flat=True))
    wa_ids = {m.contact.wa_id for m in messages if m.contact.wa_id}
    user_ids = {m.contact.user_id for m in messages if m.contact.user_id}
    leads = loaded(  # list(queryset), for less (``rows.loaded``)
        Lead.objects.select_for_update()
        .filter(Q(wa_id__in=wa_ids) | Q(user_id__in=user_ids))
        .order_by("pk")  # one order for every worker: no deadlock between two runs
    )
    numbers = {m.business.phone_number_id for m in messages}
    threads = {
        (c.lead_id, c.phone_number_id): c
        for c in loaded(Conversation.objects.filter(lead__in=leads, phone_number_id__in=numbers))
    }
    return _Known(
        wamids=stored,
        by_wa={lead.wa_id: lead for lead in leads if lead.wa_id},
        by_user={lead.user_id: lead for lead in leads if lead.user_id},
        threads=threads,
    )


def _identity_unchanged(lead: Lead, message: InboundMessage) -> bool:
    """``identity.refresh_identity`` would change nothing (checked strictly: any doubt goes alone)."""
    contact = message.contact
    if contact.user_id and contact.user_id != lead.user_id:
        return False
    if contact.wa_id and (contact.wa_id != lead.wa_id or not lead.phone):
        return False
    for name, value in (("username", contact.username), ("name", contact.name)):
        value = fit(Lead, name, value)
        if value and value != getattr(lead, name):
            return False
    return True


def _older_than_counted(row: Lead | Conversation, at: datetime) -> bool:
    latest = Tally.of(row).latest_at
    return latest is not None and at < latest


def _steps_plainly(lead: Lead, thread: Conversation, message: InboundMessage) -> bool:
    """Counting it is a step forward: no recomputation, no SLA start, no new first message."""
    at = message.timestamp
    return (
        lead.erased_at is None
        and lead.first_inbound_at is not None
        and lead.first_message_at is not None
        and at >= lead.first_message_at
        and not _older_than_counted(lead, at)
        and not _older_than_counted(thread, at)
    )


def _step_thread(thread: Conversation, row: Message) -> None:
    """``conversations.count_message`` and the thread half of ``engagement.note_message``."""
    at = row.timestamp
    thread.message_count += 1
    if thread.last_message_at is None or at > thread.last_message_at:
        thread.last_message_at = at
    if thread.started_at is None or at < thread.started_at:
        thread.started_at = at
    tally = Tally.of(thread)
    tally.step(row, answer=False, clock=_no_clock)
    tally.write(thread)


def _step_lead(lead: Lead, row: Message) -> list[str]:
    """``_note_timing``, ``lead_activity.note_inbound`` and the lead half of ``note_message``; changed fields."""
    at = row.timestamp
    fields: list[str] = []
    if lead.last_message_at is None or at > lead.last_message_at:
        lead.last_message_at = at
        fields.append("last_message_at")
    if lead.last_activity_at is None or at >= lead.last_activity_at:
        lead.last_activity_at = at
        lead.last_message_preview = fit(
            Lead, "last_message_preview", " ".join((row.text or f"[{row.type}]").split())
        )
        lead.last_message_direction = row.direction
        fields += ["last_activity_at", "last_message_preview", "last_message_direction"]
    lead.unread_count += 1
    fields.append("unread_count")
    tally = Tally.of(lead)
    tally.step(row, answer=False, clock=_no_clock)
    fields += tally.write(lead)
    return fields


def _no_clock() -> BusinessClock:  # an inbound step never ends a wait, so never asks the clock
    raise AssertionError("an inbound message asked for the business clock")


@dataclass(slots=True)
class _Stored:
    """One message of the run: its row, and the lead and thread as they stood after it."""

    row: Message
    lead: Lead
    lead_fields: list[str]


@dataclass(slots=True)
class _Run:
    """The plain messages stepped so far, and the rows they touched."""

    stored: list[_Stored] = field(default_factory=list)
    leads: dict[int, Lead] = field(default_factory=dict)
    threads: dict[int, Conversation] = field(default_factory=dict)

    def write(self) -> None:
        """Insert the rows and move the threads and leads, inside the caller's transaction."""
        rows = [s.row for s in self.stored]
        if rows:
            insert_rows(rows)  # a wamid stored meanwhile fails the run: it goes alone
            _link_earlier_replies(rows)
        # One UPDATE per table (``bulk.update_rows``: the rows as one JSON parameter), where an
        # UPDATE per row (``executemany``) cost a round of quoting and a statement per lead.
        update_rows(list(self.threads.values()), CONVERSATION_FIELDS)
        now = timezone.now()
        for lead in self.leads.values():
            lead.updated_at = now
        update_rows(list(self.leads.values()), LEAD_FIELDS)
        for s in self.stored:
            s.lead.updated_at = self.leads[s.lead.pk].updated_at
            # What ``lead.save(update_fields=...)`` would have told post_save receivers (conversions).
            post_save.send(
                sender=Lead,
                instance=s.lead,
                created=False,
                update_fields=frozenset([*s.lead_fields, "updated_at"]),
                raw=False,
                using=s.lead._state.db,
            )
            transaction.on_commit(_received(s))


def _received(s: _Stored) -> Callable[[], None]:
    def send() -> None:
        message_received.send(sender=Message, message=s.row, lead=s.lead)

    return send


def _link_earlier_replies(rows: list[Message]) -> None:
    """``kinds.link_replies`` for the run: replies that arrived before the message they answer."""
    by_wamid = {row.wamid: row for row in rows}
    waiting = Message.objects.filter(reply_to_wamid__in=list(by_wamid), reply_to__isnull=True).values_list(
        "pk", "reply_to_wamid", "conversation__lead_id"
    )
    for pk, wamid, lead_id in waiting:
        target = by_wamid[wamid]
        if target.conversation.lead_id == lead_id:  # only within the row's own lead
            Message.objects.filter(pk=pk).update(reply_to=target)


def _plan(items: Sequence[Item], positions: list[int]) -> tuple[_Run, int | None]:
    """Step the plain messages in order; stop at the first one that is not (its position, or None)."""
    messages = [cast(InboundMessage, items[p][1]) for p in positions]  # _shape_is_plain checked
    known = _look_up(messages)
    run = _Run()
    seen: set[str] = set()
    # Each message's signals carry the lead and thread as they stood after it. The latest message
    # of a lead (of a thread) holds the live instance, which is how it ends; only when a later
    # message steps it again is a copy taken for the earlier one (copying for every message was
    # 7 % of the inbound mix's profile, and most leads write once or twice per batch).
    holding_lead: dict[int, _Stored] = {}
    holding_thread: dict[int, Message] = {}
    for position, message in zip(positions, messages, strict=True):
        if message.wamid in known.wamids or message.wamid in seen:
            continue  # a redelivery: receive_message does nothing either
        lead = known.lead_for(message)
        thread = known.threads.get((lead.pk, message.business.phone_number_id)) if lead else None
        if lead is None or thread is None or not _identity_unchanged(lead, message):
            return run, position
        if not _steps_plainly(lead, thread, message):
            return run, position
        seen.add(message.wamid)
        if (earlier := holding_lead.get(lead.pk)) is not None:
            earlier.lead = copy.copy(lead)
        if (earlier_row := holding_thread.get(thread.pk)) is not None:
            earlier_row.conversation = copy.copy(thread)
        row = inbound_row(thread, message, event=items[position][0])
        _step_thread(thread, row)
        lead_fields = _step_lead(lead, row)
        stored = _Stored(row=row, lead=lead, lead_fields=lead_fields)
        run.stored.append(stored)
        holding_lead[lead.pk], holding_thread[thread.pk] = stored, row
        run.leads[lead.pk] = lead
        run.threads[thread.pk] = thread
    return run, None


def _apply_run(items: Sequence[Item], positions: list[int], alone: Callable[[int], None]) -> None:
    """Plain candidates in order: stepped runs set-based, each stop alone, the rest looked up again."""
    while positions:
        try:
            with transaction.atomic():
                run, stop = _plan(items, positions)
                run.write()
        except Exception:
            logger.info(
                "%s follow-ups failed together; applying them one by one", len(positions), exc_info=True
            )
            for position in positions:
                alone(position)
            return
        if stop is None:
            return
        alone(stop)
        positions = positions[positions.index(stop) + 1 :]


def apply_in_order(items: Sequence[Item], *, alone: Callable[[int], None]) -> None:
    """Apply ``items`` (event, update) in order: plain follow-ups and new ad leads (``new_lead_batch``)
    set-based, anything else ``alone(i)``.

    ``alone`` applies one update in its own transaction and notes its failure (``processing``).
    """
    if _model_signals_heard():
        for position in range(len(items)):
            alone(position)
        return
    new_leads = not new_lead_batch.model_signals_heard()
    pending: list[int] = []  # plain follow-ups waiting for their run
    fresh: list[int] = []  # new ad leads waiting for theirs (``new_lead_batch``)
    for position, (_, update) in enumerate(items):
        if _shape_is_plain(update):
            new_lead_batch.apply_run(items, fresh, alone)
            fresh = []
            pending.append(position)
            continue
        if new_leads and new_lead_batch.shape_is_new_ad_lead(update):
            _apply_run(items, pending, alone)
            pending = []
            fresh.append(position)
            continue
        _apply_run(items, pending, alone)
        new_lead_batch.apply_run(items, fresh, alone)
        pending, fresh = [], []
        alone(position)
    _apply_run(items, pending, alone)
    new_lead_batch.apply_run(items, fresh, alone)
