"""Choosing a lead's owner by its campaign's rule.

The campaign row is locked while choosing, so workers on other processes or machines take
turns on the round-robin cursor and no two leads are handed the same turn.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..adapter import get_adapter
from ..models import Campaign, CampaignMember, Lead, LeadAssignment
from ..signals import lead_assigned


def _round_robin(campaign: Campaign) -> CampaignMember | None:
    adapter = get_adapter()
    members = [
        m
        for m in campaign.members.filter(is_active=True).select_related("user").order_by("id")
        if adapter.is_eligible_owner(m.user)
    ]
    if not members:
        return None
    cursor = campaign.last_assigned_member_id
    chosen = next((m for m in members if cursor is None or m.id > cursor), members[0])
    campaign.last_assigned_member = chosen
    campaign.save(update_fields=["last_assigned_member", "updated_at"])
    return chosen


def choose_owner(lead: Lead) -> tuple[Any | None, Campaign | None, str]:
    """(owner, campaign whose rule chose, reason). Call inside a transaction."""
    adapter = get_adapter()
    if lead.campaign_id is None:
        return adapter.default_owner(), None, "No campaign: default owner"
    campaign = Campaign.objects.select_for_update().get(pk=lead.campaign_id)
    if not campaign.is_active:
        return adapter.default_owner(), campaign, f"Campaign '{campaign}' is inactive: default owner"
    member = _round_robin(campaign)
    if member is not None:
        return member.user, campaign, f"Round robin in campaign '{campaign}'"
    fallback = campaign.fallback_owner if campaign.fallback_owner_id else adapter.default_owner()
    return fallback, campaign, f"Campaign '{campaign}' has no active member: fallback owner"


def assign(
    lead: Lead, *, owner: Any | None, reason: str, campaign: Campaign | None = None, by: Any = None
) -> None:
    """Set the owner, record why, and announce it after commit."""
    previous = lead.owner
    lead.owner = owner
    lead.save(update_fields=["owner", "updated_at"])
    LeadAssignment.objects.create(
        lead=lead,
        owner=owner,
        previous_owner=previous,
        campaign=campaign,
        reason=reason[:255],
        assigned_by=by,
    )
    transaction.on_commit(
        lambda: lead_assigned.send(
            sender=Lead, lead=lead, owner=owner, previous_owner=previous, reason=reason
        )
    )


def assign_new_lead(lead: Lead, *, reason_prefix: str = "") -> Any | None:
    owner, campaign, reason = choose_owner(lead)
    assign(lead, owner=owner, reason=f"{reason_prefix}{reason}", campaign=campaign)
    return owner
