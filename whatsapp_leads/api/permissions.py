"""API permissions: Django's model permissions for what a person may do, the shared row rule for which leads.

- Reading needs the model's ``view`` permission (``view_lead``, ``view_campaign``); DRF's own
  ``DjangoModelPermissions`` lets anyone logged in read, which would show every rep the lead list.
- Changing a lead needs ``change_lead``; changing its owner also needs ``view_all_leads``
  (``whatsapp_leads.permissions.can_reassign_leads``, the admin's rule).
- Which rows: ``whatsapp_leads.permissions.visible_leads`` narrows the querysets, so a lead
  someone may not see is a 404, never a 403 that would confirm the id exists.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import DjangoModelPermissions

from ..permissions import can_reassign_leads

VIEW = "%(app_label)s.view_%(model_name)s"


class ModelPermissions(DjangoModelPermissions):
    """``DjangoModelPermissions`` with the ``view`` permission required to read."""

    perms_map = {**DjangoModelPermissions.perms_map, "GET": [VIEW], "HEAD": [VIEW], "OPTIONS": [VIEW]}


def check_may_reassign(user: Any) -> None:
    """403 unless ``user`` is a manager: a rep may not hand a lead to someone, or take one."""
    if not can_reassign_leads(user):
        raise PermissionDenied("Only managers (whatsapp_leads.view_all_leads) may change a lead's owner.")
