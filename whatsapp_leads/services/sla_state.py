"""Where a lead stands against its campaign's first-response SLA, for the screens that colour it.

A pure function of the lead's stored fields and its campaign's SLA (no query, no clock of its own:
``now`` is passed in), so the inbox and the lead list decide each row's colour from the row they
already fetched, and a test can pin every case without waiting.

The states, in the order a wait goes through them:

- ``within``: a first answer is due and more than a quarter of the SLA is left;
- ``near``: a quarter of the SLA or less is left (``NEAR_FRACTION``): 2 min 30 s of a 10 min SLA.
  The quarter is of the SLA itself, not of the wall time to the due moment, so a business-time SLA
  due at 09:05 after a message at 23:00 is ``within`` all night and ``near`` from 09:02:30;
- ``breached``: the due moment has passed without an answer (whether or not the checker has run
  yet), or the lead breached and is still unanswered;
- ``met`` / ``late``: answered, and the first response (in the campaign's clock) was within the SLA
  or not;
- ``none``: no SLA applies (the campaign has none, the lead has no campaign, or no clock was started).

The SLA judges the *first* answer only: a lead answered once and writing again waits without an SLA
colour (the inbox still shows how long it has waited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

NEAR_FRACTION = 0.25


class SlaState(StrEnum):
    NONE = "none"
    WITHIN = "within"
    NEAR = "near"
    BREACHED = "breached"
    MET = "met"
    LATE = "late"


# Words and a symbol beside the colour, so the state never depends on seeing colour.
WORDS = {
    SlaState.NONE: "",
    SlaState.WITHIN: "Within SLA",
    SlaState.NEAR: "Near SLA",
    SlaState.BREACHED: "SLA breached",
    SlaState.MET: "Answered within SLA",
    SlaState.LATE: "Answered late",
}
# The same in one word, for the lead list's narrow column (the full words are its tooltip).
SHORT_WORDS = {
    SlaState.NONE: "",
    SlaState.WITHIN: "Within",
    SlaState.NEAR: "Near",
    SlaState.BREACHED: "Breached",
    SlaState.MET: "Met",
    SlaState.LATE: "Late",
}
ICONS = {
    SlaState.NONE: "",
    SlaState.WITHIN: "\u2713",  # check mark
    SlaState.NEAR: "\u25d4",  # circle a quarter full: time running out
    SlaState.BREACHED: "\u26a0",  # warning sign
    SlaState.MET: "\u2713",
    SlaState.LATE: "\u26a0",
}


@dataclass(frozen=True, slots=True)
class SlaStatus:
    state: SlaState
    sla: timedelta | None = None
    # For within/near: time left to the due moment; for breached: how far past it (None once the
    # checker has applied the breach and cleared the due moment).
    left: timedelta | None = None
    over: timedelta | None = None

    @property
    def words(self) -> str:
        return WORDS[self.state]

    @property
    def short_words(self) -> str:
        return SHORT_WORDS[self.state]

    @property
    def icon(self) -> str:
        return ICONS[self.state]

    @property
    def css(self) -> str:
        """The class the screens colour with (``wl-sla-near``...)."""
        return f"wl-sla-{self.state.value}"


NO_SLA = SlaStatus(SlaState.NONE)


def _answered_state(lead: Any, *, sla: timedelta, clock: str) -> SlaStatus:
    seconds = lead.first_response_seconds if clock == "wall" else lead.first_response_business_seconds
    if seconds is None:  # answered before the metrics were kept: no figure to judge by
        seconds = lead.first_response_seconds
    if seconds is None:
        return NO_SLA
    late = seconds > sla.total_seconds() or lead.sla_breached_at is not None
    return SlaStatus(SlaState.LATE if late else SlaState.MET, sla=sla)


def sla_status(lead: Any, *, now: datetime, campaign: Any = None) -> SlaStatus:
    """``lead``'s SLA state at ``now``; ``campaign`` defaults to ``lead.campaign`` (already fetched).

    Reads only ``first_response_sla`` and ``sla_clock`` of the campaign and the lead's
    ``first_reply_at``, ``first_response_seconds``/``_business_seconds``, ``sla_due_at`` and
    ``sla_breached_at``.
    """
    campaign = lead.campaign if campaign is None else campaign
    sla = getattr(campaign, "first_response_sla", None) if campaign is not None else None
    if not sla:
        return NO_SLA
    if lead.first_reply_at is not None:
        return _answered_state(lead, sla=sla, clock=campaign.sla_clock)
    due = lead.sla_due_at
    if due is not None:
        if now >= due:
            return SlaStatus(SlaState.BREACHED, sla=sla, over=now - due)
        left = due - now
        near = left.total_seconds() <= sla.total_seconds() * NEAR_FRACTION
        return SlaStatus(SlaState.NEAR if near else SlaState.WITHIN, sla=sla, left=left)
    if lead.sla_breached_at is not None:
        return SlaStatus(SlaState.BREACHED, sla=sla)
    return NO_SLA
