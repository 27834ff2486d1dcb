"""``manage.py whatsapp_demo``: the users, groups, campaign and ad a hand test needs, made idempotently.

``make run`` calls it on every start, so it creates what is missing and undoes no edit a person
made since (a changed password, a deactivated member); passwords are reset only on request.
Passwords come from the environment (``.env``), so the credentials it prints stay true from one
run to the next.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from ...models import Ad, Campaign, CampaignMember

ADMIN_USERNAME = "admin"
REP_USERNAMES = ("rep1", "rep2")
REPS_GROUP = "Sales reps"
MANAGERS_GROUP = "Sales managers"
CAMPAIGN_NAME = "Demo: Home loans (Click-to-WhatsApp)"
AD_META_ID = "120226305854810726"  # Meta's sample ad id, the one whatsapp_simulate's --ad-id uses
AD_NAME = "Demo ad: Home loans at 8.4%"

# Reps work their own leads: see and update them, and read the thread and the ad behind them.
REP_PERMISSIONS = (
    "view_lead",
    "change_lead",
    "view_conversation",
    "view_message",
    "view_campaign",
    "view_ad",
)
# Managers see every lead, not only their own.
MANAGER_PERMISSIONS = (*REP_PERMISSIONS, "view_all_leads", "view_leadassignment")


class Command(BaseCommand):
    help = (
        "Create the demo data make run relies on, idempotently: superuser 'admin' (password "
        "DEMO_ADMIN_PASSWORD), groups 'Sales reps' and 'Sales managers' (the latter may view all leads), "
        "staff reps rep1 and rep2 (password DEMO_REP_PASSWORD) in 'Sales reps', and the campaign "
        f"'{CAMPAIGN_NAME}' with both reps as members and ad {AD_META_ID}. Prints the credentials."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the demo users' passwords to the configured ones even if they were changed since.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        reps_group = self._group(REPS_GROUP, REP_PERMISSIONS)
        self._group(MANAGERS_GROUP, MANAGER_PERMISSIONS)

        reset = options["reset_passwords"]
        lines = [self._user(ADMIN_USERNAME, env_var="DEMO_ADMIN_PASSWORD", superuser=True, reset=reset)]
        reps = []
        for username in REP_USERNAMES:
            lines.append(
                self._user(
                    username, env_var="DEMO_REP_PASSWORD", superuser=False, reset=reset, group=reps_group
                )
            )
            reps.append(get_user_model()._default_manager.get_by_natural_key(username))

        campaign = self._campaign(reps)
        ad, _ = Ad.objects.get_or_create(meta_id=AD_META_ID, defaults={"campaign": campaign, "name": AD_NAME})
        if ad.campaign_id is None:  # first seen through a simulated click, before the demo existed
            Ad.objects.filter(pk=ad.pk).update(campaign=campaign, name=ad.name or AD_NAME)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"  Campaign '{campaign.name}' (round robin: {', '.join(REP_USERNAMES)}), ad {AD_META_ID}"
        )
        for line in lines:
            self.stdout.write(f"  {line}")

    def _group(self, name: str, codenames: tuple[str, ...]) -> Group:
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="whatsapp_leads", codename__in=codenames)
        group.permissions.add(*perms)
        return group

    def _user(
        self, username: str, *, env_var: str, superuser: bool, reset: bool, group: Group | None = None
    ) -> str:
        """Create the user if missing and describe its login; never overwrite a changed password unasked."""
        User = get_user_model()
        configured = os.environ.get(env_var, "")
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        role = "superuser" if superuser else "sales rep"
        if user is None:
            password = configured or secrets.token_urlsafe(12)
            user = User._default_manager.create_user(
                username=username,
                email=f"{username}@example.com",
                password=password,
                is_staff=True,
                is_superuser=superuser,
            )
            if group is not None:
                user.groups.add(group)
            source = "" if configured else f" (generated: set {env_var} to choose it)"
            return f"{role:9} {username} / {password}{source}"
        if configured and (reset or user.check_password(configured)):
            if reset:
                user.set_password(configured)
                user.save(update_fields=["password"])
            return f"{role:9} {username} / {configured}"
        return f"{role:9} {username} / (password unchanged: was set earlier; --reset-passwords resets it)"

    def _campaign(self, reps: list[Any]) -> Campaign:
        campaign = Campaign.objects.filter(name=CAMPAIGN_NAME).order_by("pk").first()
        if campaign is None:
            campaign = Campaign.objects.create(name=CAMPAIGN_NAME)
            for rep in reps:
                CampaignMember.objects.create(campaign=campaign, user=rep, is_active=True)
        return campaign
