"""System checks name the exact setting to fix."""

from __future__ import annotations

from whatsapp_leads.checks import check_routing_settings, check_webhook_settings


def ids(issues) -> set[str]:
    return {issue.id for issue in issues}


def test_configured_settings_raise_no_issue(settings):
    assert check_webhook_settings() == []
    assert check_routing_settings() == []


def test_missing_secret_and_verify_token_are_reported_by_name(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "APP_SECRETS": [], "VERIFY_TOKEN": ""}
    issues = check_webhook_settings()
    assert ids(issues) == {"whatsapp_leads.W001", "whatsapp_leads.W002"}
    assert "WHATSAPP_APP_SECRET" in issues[0].hint


def test_an_upload_limit_below_three_megabytes_is_an_error(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2621440
    assert "whatsapp_leads.E001" in ids(check_webhook_settings())


def test_an_unknown_business_time_zone_is_an_error(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "BUSINESS_TIME_ZONE": "Asia/Bombay-ish"}
    assert ids(check_routing_settings()) == {"whatsapp_leads.E002"}


def test_an_unknown_off_hours_rule_is_an_error(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "OFF_HOURS_ROUTING": "round_robin"}
    assert ids(check_routing_settings()) == {"whatsapp_leads.E003"}
