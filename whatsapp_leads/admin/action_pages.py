"""The context of an admin action's confirmation page (re-assign, erase): the admin's chrome, and
the selection carried through the form so the action runs on what was chosen."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.http import HttpRequest

from ..models import Lead


def action_page_context(
    model_admin: admin.ModelAdmin, request: HttpRequest, *, title: str, form: Any, **extra: Any
) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Lead._meta,
        "title": title,
        "form": form,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        **extra,
    }
