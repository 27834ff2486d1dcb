"""Who sees which leads: one rule for the admin, the REST API and anything a host builds on them.

A sales rep sees (and may change) only the leads they own; a manager (``whatsapp_leads.view_all_leads``)
or a superuser sees every lead. Model permissions (``view_lead``, ``change_lead``) still decide what a
person may do at all; this module only narrows *which rows*. Keeping it in one place means a lead
hidden from a rep in the admin can never be fetched by id through the API, or the other way round.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Lead

VIEW_ALL_LEADS = "whatsapp_leads.view_all_leads"
CHANGE_LEAD = "whatsapp_leads.change_lead"
DELETE_LEAD = "whatsapp_leads.delete_lead"


def can_see_all_leads(user: Any) -> bool:
    """Managers and superusers see every lead; everyone else only their own."""
    return bool(user.is_active and (user.is_superuser or user.has_perm(VIEW_ALL_LEADS)))


def can_reassign_leads(user: Any) -> bool:
    """Changing an owner is a manager's job: it needs both the view-all and the change permission."""
    return can_see_all_leads(user) and bool(user.has_perm(CHANGE_LEAD))


def can_erase_leads(user: Any) -> bool:
    """Erasing a person's data (and exporting it) is a manager's job: view-all and the delete permission."""
    return can_see_all_leads(user) and bool(user.has_perm(DELETE_LEAD))


def visible_leads(user: Any, *, queryset: QuerySet[Lead] | None = None) -> QuerySet[Lead]:
    """``queryset`` (default: every lead) narrowed to the rows ``user`` may see.

    Anonymous and deactivated users see nothing, whatever let them this far: an empty queryset,
    not an error, so callers answer 404 and never reveal that an id exists.
    """
    leads = Lead.objects.all() if queryset is None else queryset
    if can_see_all_leads(user):
        return leads
    if not (user.is_authenticated and user.is_active):
        return leads.none()
    return leads.filter(owner=user)


def sees_every_campaign(user: Any) -> bool:
    """Whether ``user`` sees every campaign and its whole numbers.

    A sales rep (who may work leads but sees only their own) sees only the campaigns they belong
    to, and of those only their own leads' numbers. Managers, campaign admins and people who read
    campaigns without working leads see them all, as before.
    """
    if can_see_all_leads(user) or user.has_perm("whatsapp_leads.change_campaign"):
        return True
    works_leads = user.has_perm("whatsapp_leads.view_lead") or user.has_perm(CHANGE_LEAD)
    return not works_leads
