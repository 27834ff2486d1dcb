"""E-mails for first-response SLA breaches, sent from the ``sla_breached`` signal (after commit).

Level 1 of a notifying campaign tells the owner; an escalation (level 2, a lead with no owner, or
a re-assignment nobody could take) tells the campaign's managers. Only people who may open the
lead are written to (the row rule of ``permissions``): the owner, and managers who see every
lead; a manager listed on the campaign without that permission gets nothing. A re-assignment
tells nobody here: the new owner hears of it like any new lead (``NOTIFY_OWNER_BY_EMAIL``).
A mail server that fails is logged; the breach stands.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import send_mail

from ...conf import app_settings
from ...models import Lead, SlaBreach
from ...permissions import can_see_all_leads
from ..notifications import lead_link
from .deadline import describe

log = logging.getLogger(__name__)


def recipients(breach: SlaBreach) -> list[str]:
    """Addresses to tell about ``breach`` (deduplicated, in a stable order)."""
    if breach.action == SlaBreach.Action.NOTIFIED:
        people: list[Any] = [breach.owner] if breach.owner is not None else []
    elif breach.action in (SlaBreach.Action.ESCALATED, SlaBreach.Action.NOBODY) and breach.campaign:
        people = [m for m in breach.campaign.managers.all() if can_see_all_leads(m)]
    else:
        people = []
    emails = [p.email for p in people if p.is_active and getattr(p, "email", "")]
    return list(dict.fromkeys(emails))


def email_breach(*, lead: Lead, breach: SlaBreach) -> bool:
    """Send the e-mail; False when nobody is to be told or the mail could not be sent."""
    to = recipients(breach)
    if not to:
        return False
    who = lead.name or lead.phone or f"Lead #{lead.pk}"
    sla = describe(breach.sla)
    lines = [
        f"Nobody answered {who} within {sla} (first-response SLA).",
        f"Phone: {lead.phone or '-'}",
        f"Campaign: {breach.campaign.name if breach.campaign else '-'}",
        f"Owner: {lead.owner.get_username() if lead.owner else '-'}",
        f"First message: {lead.first_message or '-'}",
        f"What was done: {breach.detail or breach.get_action_display()}",
    ]
    link = lead_link(lead)
    if link:
        lines.append(f"Open it: {link}")
    subject = f"Unanswered WhatsApp lead: {who}" if breach.level == 1 else f"Still unanswered: {who}"
    try:
        send_mail(
            subject=subject,
            message="\n".join(lines),
            from_email=app_settings.NOTIFY_EMAIL_FROM or None,
            recipient_list=to,
        )
    except Exception:  # any backend's failure: the breach stands, the mail is only a courtesy
        log.exception("could not e-mail the SLA breach of lead %s", lead.pk)
        return False
    return True


def on_sla_breached(sender: Any, *, lead: Lead, breach: SlaBreach, **kwargs: Any) -> None:
    email_breach(lead=lead, breach=breach)
