"""The "Re-assign to…" action: a manager hands several leads to one rep, each change recorded.

Every lead goes through ``services.assignment.reassign``, exactly like changing the owner on the
lead's page, so each one gets its ``LeadAssignment`` row ("Re-assigned by <manager>") and its
``lead_assigned`` signal after commit.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ..models import Lead
from ..services import assignment
from .action_pages import action_page_context


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=get_user_model()._default_manager.none(),
        label="New owner",
        help_text="Active staff only.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        User = get_user_model()
        owner = cast(forms.ModelChoiceField, self.fields["owner"])  # declared just above
        owner.queryset = User._default_manager.filter(is_active=True, is_staff=True).order_by(
            User.USERNAME_FIELD
        )


def reassign_leads(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> TemplateResponse | None:
    """First a page to pick the new owner; on its submit, re-assign and go back to the list."""
    form = ReassignForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        owner = form.cleaned_data["owner"]
        changed = 0
        with transaction.atomic():
            # By primary key: the changelist's queryset may be DISTINCT, which FOR UPDATE refuses.
            chosen = Lead.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))
            for lead in chosen.select_related("owner").select_for_update(of=("self",)).order_by("pk"):
                if lead.owner_id != owner.pk:
                    assignment.reassign(lead, owner=owner, by=request.user)
                    changed += 1
        model_admin.message_user(
            request, f"{changed} lead(s) re-assigned to {owner}; {queryset.count() - changed} already theirs."
        )
        return None
    if form.is_bound:
        model_admin.message_user(request, "Choose an active staff member.", messages.ERROR)
    context = action_page_context(
        model_admin,
        request,
        title="Re-assign leads",
        form=form,
        leads=list(queryset.select_related("owner")[:500]),
        count=queryset.count(),
    )
    return TemplateResponse(request, "whatsapp_leads/admin/lead/reassign.html", context)
