"""Keyword routing: a chat that came without an ad joins the campaign its first message asks for.

A campaign's ``keywords`` is a list a manager types: words and phrases separated by commas or
lines, matched in any case on whole words ("loan" matches "Need a LOAN?" but not "loaner"), and
``/regular expressions/`` between slashes for anything else (a "/" inside one is written "\\/").
When several campaigns match, the highest ``keyword_priority`` wins, then the oldest campaign.

Patterns are written by staff, not by the people who message us; a broken one is refused by the
model's validator, and if one slips through (an old row, a raw UPDATE) it is skipped and logged,
never allowed to fail a lead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ...keywords import keyword_errors, parse_keywords
from ...models import Campaign, Lead

__all__ = ["KeywordClaim", "claiming_campaign", "first_match", "keyword_errors"]

logger = logging.getLogger(__name__)


def first_match(text: str, keywords: str) -> str | None:
    """The first entry of ``keywords`` that ``text`` matches, as typed; None when none does."""
    for keyword in parse_keywords(keywords):
        if keyword.matches(text):
            return keyword.text
    return None


@dataclass(frozen=True, slots=True)
class KeywordClaim:
    """A campaign that claimed a chat, and the entry that matched."""

    campaign: Campaign
    keyword: str

    @property
    def reason(self) -> str:
        return f"First message matched '{self.keyword}' of campaign '{self.campaign}'. "


def claiming_campaign(text: str) -> KeywordClaim | None:
    """The active campaign whose keywords ``text`` matches, by priority; one query."""
    if not text.strip():
        return None
    campaigns = (
        Campaign.objects.filter(is_active=True)
        .exclude(keywords="")
        .order_by("-keyword_priority", "created_at", "id")
        .only("id", "name", "keywords", "keyword_priority")
    )
    for campaign in campaigns:
        for keyword in parse_keywords(campaign.keywords):
            if keyword.pattern is None:
                logger.warning("campaign %s: skipping keyword %s", campaign.pk, keyword.error)
            elif keyword.matches(text):
                return KeywordClaim(campaign=campaign, keyword=keyword.text)
    return None


def reference_claim(code: str) -> KeywordClaim | None:
    """The active campaign whose ``reference_code`` is ``code`` (a prefilled "[HL-DIWALI]"); one query."""
    if not code:
        return None
    campaign = (
        Campaign.objects.filter(is_active=True, reference_code__iexact=code)
        .order_by("-keyword_priority", "created_at", "id")
        .only("id", "name")
        .first()
    )
    return KeywordClaim(campaign=campaign, keyword=f"[{code}]") if campaign else None


def claim_organic_lead(lead: Lead, *, text: str) -> KeywordClaim | None:
    """Give a new lead that came without an ad the campaign its first message asks for.

    Only organic chats: a lead from an ad belongs to the ad's campaign, which the ad lookup fills
    in later (``campaign_sync.link_leads``) when it is not known yet.
    """
    if lead.campaign_id is not None or lead.referral:
        return None
    code = lead.utm.get("ref", "") if isinstance(lead.utm, dict) else ""
    claim = reference_claim(str(code)) or claiming_campaign(text)
    if claim is not None:
        lead.campaign = claim.campaign
        lead.save(update_fields=["campaign", "updated_at"])
    return claim
