"""The swappable adapter: hosts change lead behaviour by subclassing, named in settings.

WHATSAPP_LEADS = {"ADAPTER": "mycrm.whatsapp.MyLeadAdapter"}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from .conf import app_settings

if TYPE_CHECKING:
    from .models import Lead
    from .parsing import InboundMessage


class LeadAdapter:
    """Default behaviour; each method is a seam a host may override."""

    def default_owner(self) -> Any | None:
        """The user who gets leads no campaign claims (``WHATSAPP_DEFAULT_OWNER``), or None."""
        username = app_settings.DEFAULT_OWNER
        if not username:
            return None
        User = get_user_model()
        return User._default_manager.filter(**{User.USERNAME_FIELD: username, "is_active": True}).first()

    def populate_new_lead(self, lead: Lead, message: InboundMessage) -> None:
        """Called before a new lead is first saved; set extra host fields here."""

    def is_eligible_owner(self, user: Any) -> bool:
        """Whether ``user`` may receive leads at all (inactive accounts never do)."""
        return bool(getattr(user, "is_active", False))


def get_adapter() -> LeadAdapter:
    return app_settings.ADAPTER()
