"""The API's querysets: every related row and count a page shows, fetched with the page itself.

Counts are correlated subqueries, not ``Count()`` joins: two joined counts multiply each other's
rows (messages x assignments), while a subquery per column counts each relation on its own and
still costs one query per page, however many leads or messages there are.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from ..aggregates import count_of
from ..models import Campaign, CampaignMember, Conversation, Lead, LeadAssignment, Message
from ..permissions import visible_leads


def leads_for(user: Any) -> QuerySet[Lead]:
    """The leads ``user`` may see, with owner, campaign, ad and the counts the API shows."""
    leads = Lead.objects.select_related("owner", "campaign", "ad").annotate(
        n_messages=count_of(Message, fk="conversation__lead"),
        n_inbound=count_of(Message, fk="conversation__lead", direction=Message.Direction.INBOUND),
        n_conversations=count_of(Conversation, fk="lead"),
        n_assignments=count_of(LeadAssignment, fk="lead"),
    )
    return visible_leads(user, queryset=leads)


def transcript(lead: Lead) -> QuerySet[Message]:
    """A lead's messages across all our numbers, oldest first, in the admin transcript's order.

    Meta's times are whole seconds: within one, the webhook that arrived first comes first (workers
    may process them the other way round); messages we recorded ourselves (no webhook) come after.
    """
    return (
        Message.objects.filter(conversation__lead=lead)
        .select_related("conversation")
        .order_by("timestamp", F("webhook_event_id").asc(nulls_last=True), "pk")
    )


def assignments(lead: Lead) -> QuerySet[LeadAssignment]:
    """A lead's changes of owner, newest first, with every person and campaign they name."""
    return (
        LeadAssignment.objects.filter(lead=lead)
        .select_related("owner", "previous_owner", "assigned_by", "campaign")
        .order_by("-created_at", "-pk")
    )


def campaigns() -> QuerySet[Campaign]:
    """Campaigns by name, with their member counts."""
    return Campaign.objects.annotate(
        n_members=count_of(CampaignMember, fk="campaign"),
        n_active_members=count_of(CampaignMember, fk="campaign", is_active=True),
    ).order_by("name", "pk")
