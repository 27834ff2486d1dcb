"""Marketing consent from ``user_preferences`` or a STOP / START message: a user stops or resumes marketing.

A text message that is exactly one of ``OPT_OUT_KEYWORDS`` (STOP, UNSUBSCRIBE, बंद...) sets the
opt-out as Meta's ``user_preferences`` ``stop`` does, and one of ``OPT_IN_KEYWORDS`` (START...)
resumes; "please stop calling me at work" is a sentence, not a keyword, and changes nothing.

Sending marketing to a user who stopped it fails (Meta error 131050) and annoys them, so the
lead carries the latest choice. Meta's timestamp decides, never arrival order: a ``stop`` that
arrives after a newer ``resume`` changes nothing. A preference for a user we have no lead for is
kept as an account event instead of inventing a lead.
"""

from __future__ import annotations

import functools
import unicodedata
from datetime import datetime

from ..conf import app_settings
from ..models import AccountEvent, Lead, LeadHistory, WebhookEvent
from ..parsing import AccountNotice, ConsentChange, InboundMessage
from ..parsing.enums import MessageType
from .account import record_notice
from .identity import record_change
from .leads import find_lead

MARKETING = "marketing_messages"
OPT_OUT = {"stop": True, "resume": False}


def _as_notice(change: ConsentChange, *, summary: str) -> AccountNotice:
    return AccountNotice(
        business=change.business,
        field="user_preferences",
        event=f"{change.category}:{change.value}"[:64],
        summary=summary,
        occurred_at=change.timestamp,
        raw=change.raw,
    )


def apply_consent(change: ConsentChange, *, event: WebhookEvent | None = None) -> Lead | AccountEvent:
    """Set the lead's marketing opt-out when this choice is newer than the one it holds."""
    who = change.contact.user_id or change.contact.wa_id or "an unidentified user"
    opt_out = OPT_OUT.get(change.value)
    if change.category != MARKETING or opt_out is None:
        summary = f"{who}: {change.category or 'preference'} {change.value or 'changed'} (not a marketing stop/resume)"
        return record_notice(_as_notice(change, summary=summary), event=event)
    lead = find_lead(change.contact, lock=True) if change.contact.identified else None
    if lead is None:
        summary = f"Marketing {change.value} from {who}, who has no lead yet"
        return record_notice(_as_notice(change, summary=summary), event=event)
    set_opt_out(
        lead,
        opt_out=opt_out,
        at=change.timestamp,
        detail=change.detail or f"User chose {change.value}",
        event=event,
    )
    return lead


def set_opt_out(
    lead: Lead, *, opt_out: bool, at: datetime | None, detail: str, event: WebhookEvent | None = None
) -> bool:
    """Record the user's choice when it is newer than the one the lead holds; whether it applied."""
    stored_at = lead.marketing_opt_out_at
    if stored_at is not None and (at is None or at <= stored_at):
        return False  # an older (or undated) choice never overrides a newer one
    previous = "stopped" if lead.marketing_opt_out else "allowed"
    lead.marketing_opt_out = opt_out
    lead.marketing_opt_out_at = at
    lead.save(update_fields=["marketing_opt_out", "marketing_opt_out_at", "updated_at"])
    record_change(
        lead,
        kind=LeadHistory.Kind.MARKETING,
        previous=previous,
        current="stopped" if opt_out else "allowed",
        detail=detail,
        at=at,
        event=event,
    )
    return True


# --- STOP / START messages ---------------------------------------------------------------------

KEYWORD_TYPES = (MessageType.TEXT, MessageType.BUTTON)


def normalise_keyword(text: str) -> str:
    """Case-folded, inner spaces collapsed, punctuation and symbols at either end removed ("Stop!" = "stop")."""
    words = " ".join(str(text).split()).casefold()
    start, end = 0, len(words)
    while start < end and unicodedata.category(words[start])[0] in "PSZ":
        start += 1
    while end > start and unicodedata.category(words[end - 1])[0] in "PSZ":
        end -= 1
    return words[start:end]


def keyword_choice(text: str) -> bool | None:
    """True for an opt-out keyword, False for an opt-in one, None for any other message."""
    said = normalise_keyword(text or "")
    if not said:
        return None
    if said in _normalised(tuple(app_settings.OPT_OUT_KEYWORDS)):
        return True
    if said in _normalised(tuple(app_settings.OPT_IN_KEYWORDS)):
        return False
    return None


@functools.lru_cache(maxsize=8)
def _normalised(words: tuple[str, ...]) -> frozenset[str]:
    """The keywords as ``normalise_keyword`` makes them, once per setting's value, not once per message
    (every inbound text asks twice: 3 % of the inbound mix's profile)."""
    return frozenset(normalise_keyword(w) for w in words)


def apply_keyword(lead: Lead, message: InboundMessage, *, event: WebhookEvent | None = None) -> bool:
    """Stop or resume marketing when the message is exactly a keyword; whether the lead changed."""
    if message.type not in KEYWORD_TYPES:
        return False
    choice = keyword_choice(message.text)
    if choice is None:
        return False
    said = " ".join(message.text.split())[:40]
    return set_opt_out(lead, opt_out=choice, at=message.timestamp, detail=f"User wrote {said!r}", event=event)
