"""Telling the owner of a new lead: an e-mail through Django's e-mail backend, on by setting.

``NOTIFY_OWNER_BY_EMAIL`` switches it on. It listens to ``lead_assigned`` (sent after commit), so a
rolled-back assignment e-mails nobody. The e-mail goes to the new owner only (the row rule: nobody
else hears of the lead). ``ADMIN_ORIGIN``
(e.g. ``https://crm.example.com``) makes the link absolute. A mail server that fails is logged:
the lead is assigned all the same. The browser notification is the inbox page's (inbox.js).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import send_mail
from django.urls import NoReverseMatch, reverse

from ..conf import app_settings
from ..models import Lead

log = logging.getLogger(__name__)


def lead_link(lead: Lead) -> str:
    try:
        path = reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])
    except NoReverseMatch:  # a host without the admin
        return ""
    return f"{(app_settings.ADMIN_ORIGIN or '').rstrip('/')}{path}"


def email_new_owner(*, lead: Lead, owner: Any, previous_owner: Any = None, reason: str = "") -> bool:
    """Send the e-mail; False when switched off, nobody to tell, or the mail could not be sent."""
    if not app_settings.NOTIFY_OWNER_BY_EMAIL or owner is None or not getattr(owner, "email", ""):
        return False
    if previous_owner is not None and previous_owner.pk == owner.pk:
        return False
    who = lead.name or lead.phone or f"Lead #{lead.pk}"
    lines = [
        f"A WhatsApp lead is now yours: {who}",
        f"Phone: {lead.phone or '-'}",
        f"Campaign: {lead.campaign.name if lead.campaign_id and lead.campaign else '-'}",
        f"First message: {lead.first_message or '-'}",
        f"Why you: {reason or '-'}",
    ]
    link = lead_link(lead)
    if link:
        lines.append(f"Open it: {link}")
    try:
        send_mail(
            subject=f"New WhatsApp lead: {who}",
            message="\n".join(lines),
            from_email=app_settings.NOTIFY_EMAIL_FROM or None,
            recipient_list=[owner.email],
        )
    except Exception:  # any backend's failure: the assignment stands, the mail is only a courtesy
        log.exception("could not e-mail lead %s to its owner %s", lead.pk, owner.pk)
        return False
    return True


def on_lead_assigned(sender: Any, *, lead: Lead, owner: Any, previous_owner: Any = None,
                     reason: str = "", **kwargs: Any) -> None:  # fmt: skip
    email_new_owner(lead=lead, owner=owner, previous_owner=previous_owner, reason=reason)
