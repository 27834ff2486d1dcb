"""Engagement metrics of a conversation and of a lead, kept current as each message is stored.

Who is answering slowly, and which leads did nobody answer: the numbers pages aggregate the
``ResponseMetrics`` columns this module writes, so no page ever walks the messages.

The rules, applied to the messages in time order (Meta's timestamps, then our ids):

- An inbound message counts, moves ``last_inbound_at``, and starts a wait unless one is running
  (``awaiting_reply_since`` is the earliest unanswered message).
- An outbound message counts and moves ``last_outbound_at``. It is an *answer* only when its
  ``origin`` is in ``RESPONSE_ORIGINS`` (default: a rep's reply, the host's API send, and an echo
  of what someone typed in the WhatsApp Business app); automatic greetings never are. An answer
  ends the running wait: its length, on the wall clock and in the owner's business hours
  (``routing.business_clock``), is the last response time and adds to the average; the first
  wait ended is the first response time. An answer with no wait running (we wrote first, or
  twice in a row) changes no time.

Messages usually arrive in order, and then one step updates the stored figures. A message older
than the latest one already counted (a delayed webhook, a late echo) would make a step wrong, so
the whole lead (every thread) is recomputed from its messages instead: ``recompute_lead`` is the
same function ``manage.py whatsapp_rebuild_metrics`` runs. Callers hold the lead's row lock (the
services that store messages take it), so two workers never interleave their steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from django.db import transaction

from ..conf import app_settings
from ..models import Conversation, Lead, Message
from .routing.business_clock import BusinessClock, clock_for
from .sla import deadline

# Stored by ``conversations.count_message`` for a thread (the 24-hour window needs them at once).
_COUNTED_BY_THREAD = frozenset({"inbound_count", "last_inbound_at"})


def answer_origins() -> frozenset[str]:
    """``RESPONSE_ORIGINS``: outbound origins that count as a person's answer."""
    return frozenset(str(origin) for origin in app_settings.RESPONSE_ORIGINS or ())


def is_answer(message: Message, *, origins: frozenset[str] | None = None) -> bool:
    """Whether an outbound message answers the person (a row older than origins counts as a rep's)."""
    if message.direction != Message.Direction.OUTBOUND:
        return False
    return (message.origin or "rep") in (origins if origins is not None else answer_origins())


@dataclass(slots=True)
class Tally:
    """The figures of one thread or one lead; field names are the model fields they fill."""

    first_inbound_at: datetime | None = None
    last_inbound_at: datetime | None = None
    inbound_count: int = 0
    last_outbound_at: datetime | None = None
    outbound_count: int = 0
    awaiting_reply_since: datetime | None = None
    first_reply_at: datetime | None = None
    last_reply_at: datetime | None = None
    first_response_seconds: int | None = None
    first_response_business_seconds: int | None = None
    last_response_seconds: int | None = None
    last_response_business_seconds: int | None = None
    response_count: int = 0
    response_seconds_total: int = 0
    response_business_seconds_total: int = 0

    @classmethod
    def of(cls, row: Lead | Conversation) -> Tally:
        return cls(*[getattr(row, name) for name in _TALLY_NAMES])

    @property
    def latest_at(self) -> datetime | None:
        """The latest message counted so far; an older one arriving means a recomputation."""
        known = [at for at in (self.last_inbound_at, self.last_outbound_at) if at is not None]
        return max(known) if known else None

    def step(self, message: Message, *, answer: bool, clock: Callable[[], BusinessClock]) -> None:
        """Count one message that is not older than any counted before it."""
        at = message.timestamp
        if message.direction == Message.Direction.INBOUND:
            self.inbound_count += 1
            self.first_inbound_at = min(self.first_inbound_at or at, at)
            self.last_inbound_at = max(self.last_inbound_at or at, at)
            if self.awaiting_reply_since is None:
                self.awaiting_reply_since = at
            return
        self.outbound_count += 1
        self.last_outbound_at = max(self.last_outbound_at or at, at)
        if not answer:
            return
        self.first_reply_at = min(self.first_reply_at or at, at)
        self.last_reply_at = max(self.last_reply_at or at, at)
        waiting = self.awaiting_reply_since
        if waiting is None:
            return
        self.awaiting_reply_since = None
        wall = max(int((at - waiting).total_seconds()), 0)
        business = clock().seconds_between(waiting, at)
        if self.first_response_seconds is None:
            self.first_response_seconds, self.first_response_business_seconds = wall, business
        self.last_response_seconds, self.last_response_business_seconds = wall, business
        self.response_count += 1
        self.response_seconds_total += wall
        self.response_business_seconds_total += business

    def write(self, row: Lead | Conversation, *, skip: frozenset[str] = frozenset()) -> list[str]:
        """Copy the figures onto ``row``; the names of the fields that changed."""
        changed = []
        for name in _TALLY_NAMES:
            value = getattr(self, name)
            if name not in skip and getattr(row, name) != value:
                setattr(row, name, value)
                changed.append(name)
        return changed


# The field names in declaration order, read once (``dataclasses.fields`` per call was a
# visible share of a follow-up's cost: four calls per message).
_TALLY_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Tally))


def _lazy_clock(lead: Lead) -> Callable[[], BusinessClock]:
    """The owner's clock, read from the database only when a wait actually ends."""
    cached: list[BusinessClock] = []

    def get() -> BusinessClock:
        if not cached:
            cached.append(clock_for(campaign_id=lead.campaign_id, owner_id=lead.owner_id))
        return cached[0]

    return get


def _older_than_counted(row: Lead | Conversation, message: Message) -> bool:
    latest = Tally.of(row).latest_at
    return latest is not None and message.timestamp < latest


def note_message(
    lead: Lead, message: Message, *, thread_fields: Iterable[str] = (), save_thread: bool = True
) -> list[str]:
    """Count a message just stored; saves its thread, returns the lead's changed fields to save.

    Call with the lead's row locked, after ``conversations.count_message``. A message older
    than the latest one counted recomputes the whole lead instead (and saves it).
    ``thread_fields``: what ``count_message(save=False)`` changed on the thread, saved here in the
    same UPDATE as this step's figures instead of one of its own. ``save_thread=False``: the
    thread is not stored yet (``new_lead_batch`` inserts it with its figures), nothing is saved.
    """
    conversation = message.conversation
    unsaved = list(thread_fields)
    # count_message has raised the thread's last_inbound_at to this message at most, so "older
    # than the latest counted" still means "a later message was already there".
    if _older_than_counted(lead, message) or _older_than_counted(conversation, message):
        if unsaved:  # the count first, as when count_message saves it: the rebuild starts from it
            conversation.save(update_fields=unsaved)
        recompute_lead(lead)
        return []
    was_waiting_first = lead.first_inbound_at is None
    clock = _lazy_clock(lead)
    answer = is_answer(message)
    thread = Tally.of(conversation)
    if message.direction == Message.Direction.INBOUND:
        # count_message already counted it on the thread: undo that, so the step counts it once.
        thread.inbound_count -= 1
    thread.step(message, answer=answer, clock=clock)
    changed = [*dict.fromkeys([*unsaved, *thread.write(conversation, skip=_COUNTED_BY_THREAD)])]
    if changed and save_thread:
        conversation.save(update_fields=changed)
    tally = Tally.of(lead)
    tally.step(message, answer=answer, clock=clock)
    changed = tally.write(lead)
    if was_waiting_first and lead.first_inbound_at is not None:
        changed += deadline.on_first_inbound(lead)
    if "first_response_seconds" in changed:
        changed += deadline.on_answered(lead)
    return changed


def _tally_of(messages: Iterable[Message], *, clock: Callable[[], BusinessClock]) -> Tally:
    origins = answer_origins()
    tally = Tally()
    for message in messages:
        tally.step(message, answer=is_answer(message, origins=origins), clock=clock)
    return tally


def recompute_lead(lead: Lead) -> bool:
    """Rebuild the lead's and its threads' figures from their messages; saves what changed.

    Call with the lead's row locked (``whatsapp_rebuild_metrics`` and the out-of-order path do).
    Returns whether anything changed.
    """
    messages = list(
        Message.objects.filter(conversation__lead=lead)
        .only("id", "conversation_id", "direction", "origin", "timestamp")
        .order_by("timestamp", "id")
    )
    clock = _lazy_clock(lead)
    changed_any = False
    for conversation in Conversation.objects.filter(lead=lead):
        mine = (m for m in messages if m.conversation_id == conversation.pk)
        changed = _tally_of(mine, clock=clock).write(conversation)
        if changed:
            conversation.save(update_fields=changed)
            changed_any = True
    changed = _tally_of(messages, clock=clock).write(lead)
    changed += deadline.on_answered(lead)  # answered after all (a late echo, say): nothing is due
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
    return changed_any or bool(changed)


def summary(row: Lead | Conversation) -> dict[str, Any]:
    """The figures as a plain dict (for exports, APIs and logs)."""
    return {f.name: getattr(row, f.name) for f in fields(Tally)}


@dataclass
class RebuildReport:
    """What ``rebuild`` did: leads looked at, and how many of them had figures that changed."""

    leads: int = 0
    changed: int = 0

    def summary(self) -> str:
        return f"{self.leads} lead(s) recomputed, {self.changed} changed."


def rebuild(
    *,
    batch_size: int = 500,
    campaign_id: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RebuildReport:
    """Recompute every lead's figures (or one campaign's) from their messages, batch by batch.

    For data stored before the metrics existed, or after a change of ``RESPONSE_ORIGINS``. Each
    batch is one transaction holding its leads' row locks only while they are recomputed; leads
    are walked by id, so leads created meanwhile are counted as they arrive, by the services.
    """
    report = RebuildReport()
    leads = Lead.objects.order_by("pk")
    if campaign_id is not None:
        leads = leads.filter(campaign_id=campaign_id)
    total = leads.count()
    last = 0
    while True:
        with transaction.atomic():
            batch = list(leads.filter(pk__gt=last).select_for_update(of=("self",))[:batch_size])
            for lead in batch:
                report.changed += recompute_lead(lead)
        if not batch:
            return report
        last = batch[-1].pk
        report.leads += len(batch)
        if progress is not None:
            progress(f"{report.leads}/{total} leads, {report.changed} changed")
