"""A lead's messages as transcript lines a sales rep can read at a glance.

Pure Python over stored rows: the template only lays the lines out. Text comes from the stored
readable line (``Message.text``); a message stored without one is read again from its payload by
the parser's table, so the admin never reads Meta's field names itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.urls import reverse

from ..models import Lead, LeadNote, Message
from ..parsing.safe_text import printable_text
from ..providers.registry import DEFAULT_PROVIDER, UnknownProvider, get_provider
from .message_parts import kind_parts

# A thread longer than this shows its latest messages only, so one chatty lead cannot make the
# change page slow; the total is shown beside them.
TRANSCRIPT_LIMIT = 500

# Outbound status -> (ticks, words) as WhatsApp shows them: one grey tick sent, two delivered,
# two blue read. Unknown statuses show their name rather than a wrong tick.
TICKS: dict[str, tuple[str, str]] = {
    Message.Status.PENDING: ("🕓", "Pending"),
    Message.Status.SENT: ("✓", "Sent"),
    Message.Status.DELIVERED: ("✓✓", "Delivered"),
    Message.Status.READ: ("✓✓", "Read"),
    Message.Status.PLAYED: ("✓✓", "Played"),
    Message.Status.FAILED: ("⚠", "Failed"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptLine:
    """One bubble: who, when, what kind, the readable text and (outbound) how far it got."""

    inbound: bool
    timestamp: datetime
    kind: str
    text: str
    ticks: str = ""
    status: str = ""
    status_class: str = ""
    error: str = ""
    error_words: str = ""
    sender: str = ""
    delivery_unknown: bool = False
    resend_url: str = ""
    business_number: str = ""
    # kind-specific parts (message_parts.kind_parts): the file, a quoted reply, form answers
    media_url: str = ""
    media_image: bool = False
    media_name: str = ""
    media_note: str = ""
    reply_to: str = ""
    forwarded: str = ""
    map_url: str = ""
    answers: tuple[tuple[str, str], ...] = ()
    order_lines: tuple[tuple[str, str, str], ...] = ()
    form_error: str = ""
    # a rep's private note in the timeline (never sent): who wrote it
    note_by: str = ""

    @property
    def is_note(self) -> bool:
        return bool(self.note_by)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    lines: list[TranscriptLine]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.lines)


def message_text(message: Message) -> str:
    """The stored readable line, else the parser's reading of the payload, else the type in brackets."""
    if message.text:
        return message.text
    payload = message.payload if isinstance(message.payload, dict) else {}
    try:
        provider = get_provider(message.conversation.provider or DEFAULT_PROVIDER)
    except UnknownProvider:  # a provider since removed from PROVIDERS: its rows still render
        return f"[{message.type or 'message'}]"
    return provider.readable_text(message.type, payload) or f"[{message.type or 'message'}]"


ORIGINS = {"echo": "WhatsApp Business app", "greeting": "Automatic greeting", "api": "API"}


def sender_of(message: Message) -> str:
    """Who wrote an outbound message: the rep's name, else where it came from."""
    user = message.sent_by
    if user is not None:
        return (user.get_full_name() or "").strip() or user.get_username()
    return ORIGINS.get(message.origin, "")


def line_for(message: Message, *, site: str = "admin") -> TranscriptLine:
    inbound = message.direction == Message.Direction.INBOUND
    ticks, status = ("", "")
    if not inbound:
        ticks, status = TICKS.get(message.status, ("", message.status))
    unknown = message.send_state == Message.SendState.UNKNOWN
    if unknown:
        ticks, status = ("?", "Delivery unknown")
    error = ""
    if message.status == Message.Status.FAILED:
        error = " ".join(p for p in (message.error_code, message.error_title) if p)
    resend_url = ""
    if message.send_state in (Message.SendState.UNKNOWN, Message.SendState.REFUSED):
        resend_url = reverse(
            f"{site}:whatsapp_leads_lead_resend", args=[message.conversation.lead_id, message.pk]
        )
    conversation = message.conversation
    return TranscriptLine(
        inbound=inbound,
        timestamp=message.timestamp,
        kind=message.type,
        text=printable_text(message_text(message)),
        ticks=ticks,
        status=status,
        status_class=f"wl-status-{message.status}" if not inbound else "",
        error=error,
        error_words=message.error_words if (unknown or message.status == Message.Status.FAILED) else "",
        sender=sender_of(message) if not inbound else "",
        delivery_unknown=unknown,
        resend_url=resend_url,
        business_number=conversation.display_phone_number or conversation.phone_number_id,
        **kind_parts(message, site=site),
    )


def build_transcript(lead: Lead, *, limit: int = TRANSCRIPT_LIMIT, site: str = "admin") -> Transcript:
    """Every thread of the lead merged in time order (a lead may write to several of our numbers).

    ``site``: the admin site's URL namespace, for the links to the lead's files.
    """
    messages = Message.objects.filter(conversation__lead=lead).select_related(
        "conversation", "reply_to__conversation", "sent_by"
    )
    total = messages.count()
    # Meta's times are whole seconds: within one, the order the webhooks arrived in decides.
    # Our own messages have no webhook: within a second they come after the user's, on every database.
    newest_first = ("-timestamp", F("webhook_event_id").desc(nulls_first=True), "-id")
    latest = list(messages.order_by(*newest_first)[:limit])
    latest.reverse()
    lines = [line_for(m, site=site) for m in latest]
    # The rep's notes sit in the same timeline, from the oldest message shown on.
    since = latest[0].timestamp if latest and total > len(latest) else None
    notes = LeadNote.objects.filter(lead=lead).select_related("author").order_by("created_at", "id")
    if since is not None:
        notes = notes.filter(created_at__gte=since)
    note_lines = [note_line(note) for note in notes[:limit]]
    merged = sorted(lines + note_lines, key=lambda line: line.timestamp)  # stable: messages keep their order
    return Transcript(lines=merged, total=total)


def note_line(note: LeadNote) -> TranscriptLine:
    author = note.author
    name = (author.get_full_name() or author.get_username()) if author is not None else "a former user"
    return TranscriptLine(
        inbound=False, timestamp=note.created_at, kind="note", text=printable_text(note.text), note_by=name
    )
