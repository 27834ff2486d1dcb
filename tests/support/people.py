"""Staff users with exactly the permissions a test names, and clients logged in as them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client

from tests.support.factories import UserFactory

LEAD_PERMS = ("view_lead", "change_lead")


def staff(*codenames: str, **kwargs: Any):
    """A staff user holding the given ``whatsapp_leads`` permissions and nothing else."""
    user = UserFactory(is_staff=True, **kwargs)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="whatsapp_leads", codename__in=codenames)
    )
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class BrokenEmailBackend:
    """An e-mail backend whose server is down: every send raises, as SMTP does when unreachable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("mail server unreachable")
