"""The lead page's work panel: quick status buttons (Won asks for the deal value), the follow-up,
notes, and the contact and ad cards. Each form posts to its own small admin view (outside the lead's
change form, like the reply box), found through ``LeadAdmin.get_queryset`` so a rep can only ever
act on their own leads; another rep's lead is a 404, even by a guessed URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..models import Lead, LeadNote, LeadStatusChange
from ..parsing.safe_text import printable_text
from ..providers.meta.parser import parse_referral
from ..services import lead_status

QUICK_STATUSES = (Lead.Status.CONTACTED, Lead.Status.QUALIFIED, Lead.Status.WON, Lead.Status.LOST)
NOTES_SHOWN = 50
STATUS_CHANGES_SHOWN = 100
CURRENCY = re.compile(r"[A-Za-z]{3}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactCard:
    phone: str
    tel_url: str
    wa_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AdCard:
    headline: str
    body: str
    image_url: str
    link: str
    ad_name: str
    ad_set_name: str
    campaign_name: str


def contact_card(lead: Lead) -> ContactCard:
    digits = re.sub(r"\D", "", lead.phone or lead.wa_id or "")
    return ContactCard(
        phone=lead.phone or (f"+{digits}" if digits else ""),
        tel_url=f"tel:+{digits}" if digits else "",
        wa_url=f"https://wa.me/{digits}" if digits else "",
    )


def _http(url: Any) -> str:
    text = str(url or "")
    return text if text.startswith(("https://", "http://")) else ""


def ad_card(lead: Lead) -> AdCard | None:
    """What the person saw: the first-touch referral as read by Meta's parser (only Meta's
    Click-to-WhatsApp ads carry one), with the ad, ad set and campaign names we stored."""
    try:
        referral = parse_referral(lead.referral) if lead.referral else None
    except TypeError:  # a stored referral that is not an object: show the names we have
        referral = None
    ad = lead.ad
    if ad is None and referral is None:
        return None
    adset = ad.adset if ad is not None else None
    return AdCard(
        headline=printable_text((referral.headline if referral else "") or (ad.headline if ad else "")),
        body=printable_text(referral.body if referral else ""),
        image_url=printable_text(_http(referral.image_url or referral.thumbnail_url) if referral else ""),
        link=printable_text(
            _http((referral.source_url if referral else "") or (ad.source_url if ad else ""))
        ),
        ad_name=printable_text((ad.name or ad.meta_id) if ad is not None else lead.source_ad_id),
        ad_set_name=printable_text(adset.name if adset is not None else ""),
        campaign_name=printable_text(lead.campaign.name if lead.campaign is not None else ""),
    )


def panel_context(lead: Lead, *, site: str, may_change: bool) -> dict[str, Any]:
    """What the lead page shows beside the conversation (three fixed queries)."""
    return {
        "contact_card": contact_card(lead),
        "ad_card": ad_card(lead),
        "notes": list(LeadNote.objects.filter(lead=lead).select_related("author")[:NOTES_SHOWN]),
        "status_changes": list(
            LeadStatusChange.objects.filter(lead=lead).select_related("changed_by")[:STATUS_CHANGES_SHOWN]
        ),
        "quick_statuses": [(value, Lead.Status(value).label) for value in QUICK_STATUSES],
        "may_change": may_change,
        "status_url": reverse(f"{site}:whatsapp_leads_lead_status", args=[lead.pk]),
        "note_url": reverse(f"{site}:whatsapp_leads_lead_note", args=[lead.pk]),
        "follow_up_url": reverse(f"{site}:whatsapp_leads_lead_follow_up", args=[lead.pk]),
        "follow_up_due": lead.follow_up_at is not None and lead.follow_up_at <= timezone.now(),
    }


def _lead_for(model_admin: Any, request: HttpRequest, lead_pk: int) -> Lead:
    if request.method != "POST":
        raise Http404("Use the lead page's buttons.")
    lead = model_admin.get_queryset(request).filter(pk=lead_pk).first()
    if lead is None or not model_admin.has_change_permission(request, lead):
        raise Http404("No such lead.")
    return lead


def _back(model_admin: Any, lead: Lead, anchor: str = "wl-work") -> HttpResponseRedirect:
    url = reverse(f"{model_admin.admin_site.name}:whatsapp_leads_lead_change", args=[lead.pk])
    return HttpResponseRedirect(f"{url}#{anchor}")


def _deal_value(request: HttpRequest) -> Decimal | None:
    text = (request.POST.get("deal_value") or "").replace(",", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 <= value < Decimal(10) ** 12 else None


def status_view(model_admin: Any, request: HttpRequest, lead_pk: int) -> HttpResponseRedirect:
    lead = _lead_for(model_admin, request, lead_pk)
    status = request.POST.get("status", "")
    if status not in QUICK_STATUSES:
        messages.error(request, "Choose Contacted, Qualified, Won or Lost.")
        return _back(model_admin, lead)
    value, currency = None, ""
    if status == Lead.Status.WON:
        value = _deal_value(request)
        currency = (request.POST.get("deal_currency") or "").strip()
        if value is None or not CURRENCY.fullmatch(currency):
            messages.error(request, "Won needs the deal's value (a number) and its currency (e.g. INR).")
            return _back(model_admin, lead)
    changed = lead_status.change_status(
        lead, status=status, by=request.user, source=LeadStatusChange.Source.QUICK,
        deal_value=value, deal_currency=currency,
    )  # fmt: skip
    label = Lead.Status(status).label
    messages.success(request, f"Marked {label}." if changed else f"Already {label}.")
    return _back(model_admin, lead)


def note_view(model_admin: Any, request: HttpRequest, lead_pk: int) -> HttpResponseRedirect:
    lead = _lead_for(model_admin, request, lead_pk)
    text = (request.POST.get("note") or "").strip()
    if not text:
        messages.error(request, "Type the note before pressing Add note.")
    else:
        LeadNote.objects.create(lead=lead, author_id=request.user.pk, text=text[:10000])
        messages.success(request, "Note added.")
    return _back(model_admin, lead, "wl-notes")


def follow_up_view(model_admin: Any, request: HttpRequest, lead_pk: int) -> HttpResponseRedirect:
    lead = _lead_for(model_admin, request, lead_pk)
    if request.POST.get("clear"):
        lead.follow_up_at, lead.follow_up_note = None, ""
        messages.success(request, "Follow-up cleared.")
    else:
        moment = parse_datetime((request.POST.get("follow_up_at") or "").strip())
        if moment is None:
            messages.error(request, "Give the follow-up's date and time.")
            return _back(model_admin, lead)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        lead.follow_up_at = moment
        lead.follow_up_note = (request.POST.get("follow_up_note") or "").strip()[:255]
        messages.success(request, "Follow-up set.")
    Lead.objects.filter(pk=lead.pk).update(
        follow_up_at=lead.follow_up_at, follow_up_note=lead.follow_up_note, updated_at=timezone.now()
    )
    return _back(model_admin, lead)
