"""How one member is picked among the eligible ones. Call with the campaign row locked.

Each strategy keeps its state in the database (the campaign's cursor, the members' current
weights, the leads themselves), never in memory, so every worker process continues the same
rotation, and the campaign row lock makes them take turns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from ...models import Campaign, CampaignMember, Lead, LeadAssignment

OPEN_STATUSES = (Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED)


@dataclass(frozen=True, slots=True)
class Pick:
    """The chosen member and the rule's own words for why."""

    member: CampaignMember
    detail: str = ""


def round_robin(campaign: Campaign, members: Sequence[CampaignMember]) -> Pick:
    """The first member after the campaign's cursor (in id order), wrapping around.

    A member who joins takes their turn in id order; one who is skipped (paused, off duty) simply
    loses the turns they were away for.
    """
    cursor = campaign.last_assigned_member_id
    chosen = next((m for m in members if cursor is None or m.id > cursor), members[0])
    return Pick(chosen)


def weighted(campaign: Campaign, members: Sequence[CampaignMember]) -> Pick:
    """Smooth weighted round robin (nginx's): exact shares over every cycle of sum(weights) leads.

    Each pick adds every member's weight to their ``current_weight``, takes the highest (lowest id
    on a tie) and subtracts the total from it. With weights 3:2:1 a cycle of six leads goes
    A B A C B A: exactly 3, 2 and 1, interleaved rather than in bursts. The state lives on the
    member rows, written under the campaign lock, so every process continues the same cycle.
    """
    total = sum(m.weight for m in members)
    for member in members:
        member.current_weight += member.weight
    chosen = max(members, key=lambda m: (m.current_weight, -m.id))
    chosen.current_weight -= total
    CampaignMember.objects.bulk_update(list(members), ["current_weight"])
    return Pick(chosen, f"weight {chosen.weight} of {total}")


def least_loaded(campaign: Campaign, members: Sequence[CampaignMember]) -> Pick:
    """The member with the fewest open leads (new, contacted, qualified), counted by the database.

    A rep's load is every open lead they own, from any campaign: that is the desk they have to
    work through. Ties go to whoever has waited longest since their last assignment (never
    assigned first), then to the earliest member.
    """
    open_leads = (
        Lead.objects.filter(owner=OuterRef("user_id"), status__in=OPEN_STATUSES)
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_assigned = (
        LeadAssignment.objects.filter(owner=OuterRef("user_id"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    chosen = (
        CampaignMember.objects.filter(pk__in=[m.pk for m in members])
        .annotate(
            open_leads=Coalesce(Subquery(open_leads, output_field=IntegerField()), 0),
            last_assigned_at=Subquery(last_assigned),
        )
        .select_related("user")
        .order_by("open_leads", F("last_assigned_at").asc(nulls_first=True), "id")
        .first()
    )
    if chosen is None:  # the members were deleted meanwhile: keep the rotation going
        return round_robin(campaign, members)
    return Pick(chosen, f"{chosen.open_leads} open leads")


STRATEGIES: dict[str, Callable[[Campaign, Sequence[CampaignMember]], Pick]] = {
    Campaign.Strategy.ROUND_ROBIN: round_robin,
    Campaign.Strategy.WEIGHTED: weighted,
    Campaign.Strategy.LEAST_LOADED: least_loaded,
}


def pick(campaign: Campaign, members: Sequence[CampaignMember]) -> Pick:
    """Pick by the campaign's strategy (unknown values, e.g. from an older release, go round robin)."""
    strategy = STRATEGIES.get(campaign.routing_strategy, round_robin)
    return strategy(campaign, members)
