"""Marketing consent from ``user_preferences``: a user stops or resumes marketing messages.

Sending marketing to a user who stopped it fails (Meta error 131050) and annoys them, so the
lead carries the latest choice. Meta's timestamp decides, never arrival order: a ``stop`` that
arrives after a newer ``resume`` changes nothing. A preference for a user we have no lead for is
kept as an account event instead of inventing a lead.
"""

from __future__ import annotations

from ..models import AccountEvent, Lead, LeadHistory, WebhookEvent
from ..parsing import AccountNotice, ConsentChange
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
    stored_at = lead.marketing_opt_out_at
    if stored_at is not None and (change.timestamp is None or change.timestamp <= stored_at):
        return lead  # an older (or undated) choice never overrides a newer one
    previous = "stopped" if lead.marketing_opt_out else "allowed"
    lead.marketing_opt_out = opt_out
    lead.marketing_opt_out_at = change.timestamp
    lead.save(update_fields=["marketing_opt_out", "marketing_opt_out_at", "updated_at"])
    record_change(
        lead,
        kind=LeadHistory.Kind.MARKETING,
        previous=previous,
        current="stopped" if opt_out else "allowed",
        detail=change.detail or f"User chose {change.value}",
        at=change.timestamp,
        event=event,
    )
    return lead
