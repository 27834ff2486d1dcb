"""System checks: a misconfigured deployment is told which setting to fix, by its exact name."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import app_settings


@register(Tags.security, deploy=False)
def check_webhook_settings(app_configs: Any = None, **kwargs: Any) -> list:
    issues: list = []
    if not app_settings.app_secrets:
        issues.append(
            Warning(
                "No app secret is configured, so every webhook POST will be refused with 403.",
                hint="Set WHATSAPP_APP_SECRET (App Dashboard > App settings > Basic); comma-separate "
                "several while rotating. It fills WHATSAPP_LEADS['APP_SECRETS'].",
                id="whatsapp_leads.W001",
            )
        )
    if not app_settings.VERIFY_TOKEN:
        issues.append(
            Warning(
                "No verify token is configured, so Meta's subscription handshake will be refused.",
                hint="Set WHATSAPP_VERIFY_TOKEN to the string typed into the App Dashboard "
                "(WHATSAPP_LEADS['VERIFY_TOKEN']).",
                id="whatsapp_leads.W002",
            )
        )
    limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    if limit is not None and limit < app_settings.MAX_BODY_BYTES:
        issues.append(
            Error(
                f"DATA_UPLOAD_MAX_MEMORY_SIZE is {limit} bytes; Meta posts webhooks of up to 3 MB.",
                hint=f"Set DATA_UPLOAD_MAX_MEMORY_SIZE to at least {app_settings.MAX_BODY_BYTES}.",
                id="whatsapp_leads.E001",
            )
        )
    return issues


OFF_HOURS_CHOICES = ("next_on_duty", "fallback")


@register()
def check_routing_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Routing settings are read while a lead is being assigned; a typo there must show at deploy."""
    issues: list = []
    zone = app_settings.BUSINESS_TIME_ZONE
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            issues.append(
                Error(
                    f"WHATSAPP_LEADS['BUSINESS_TIME_ZONE'] is {zone!r}, which is not a known time zone.",
                    hint="Use an IANA name such as 'Asia/Kolkata', or leave it empty to use TIME_ZONE.",
                    id="whatsapp_leads.E002",
                )
            )
    if app_settings.OFF_HOURS_ROUTING not in OFF_HOURS_CHOICES:
        issues.append(
            Error(
                f"WHATSAPP_LEADS['OFF_HOURS_ROUTING'] is {app_settings.OFF_HOURS_ROUTING!r}.",
                hint=f"Use one of {', '.join(OFF_HOURS_CHOICES)}.",
                id="whatsapp_leads.E003",
            )
        )
    return issues
