"""The periodic jobs the app needs, offered as a Celery beat schedule for the host to merge.

The app does not own the host's Celery app, so it cannot register its jobs itself; instead the
host merges this dict into its own schedule (``bharatcrm/celery.py`` shows the one line). Host
entries of the same name win, so a host can still change or drop one:

    app.conf.beat_schedule = beat_schedule() | app.conf.beat_schedule

Intervals come from ``WHATSAPP_LEADS`` (``SWEEP_INTERVAL_SECONDS``,
``CAMPAIGN_SYNC_INTERVAL_SECONDS``, ``RETENTION_INTERVAL_SECONDS``, ``SLA_CHECK_SECONDS``; 0 leaves a
job out), the queue from ``TASK_QUEUE``. Only task
*names* appear here, so importing this module imports no task, model or service.
"""

from __future__ import annotations

from typing import Any

from .conf import app_settings, setting_label

# Short name -> (entry name in the schedule, task name, WHATSAPP_LEADS key holding its interval).
JOBS: dict[str, tuple[str, str, str]] = {
    # Re-queues events a broker outage or a lost task left pending, failed events under the retry
    # limit, media downloads that never started, and applies statuses that arrived early.
    "sweep": ("whatsapp-leads-sweep", "whatsapp_leads.sweep_pending_events", "SWEEP_INTERVAL_SECONDS"),
    # Click-to-WhatsApp campaigns, ad sets and ads from the Marketing API (a logged no-op without
    # META_ACCESS_TOKEN / META_AD_ACCOUNT_IDS); also looks up ads whose lookup never ran.
    "sync_campaigns": (
        "whatsapp-leads-sync-campaigns",
        "whatsapp_leads.sync_campaigns",
        "CAMPAIGN_SYNC_INTERVAL_SECONDS",
    ),
    # Message templates of BUSINESS_ACCOUNT_ID (a logged no-op without a token or WABA id).
    "sync_templates": (
        "whatsapp-leads-sync-templates",
        "whatsapp_leads.sync_templates",
        "TEMPLATE_SYNC_INTERVAL_SECONDS",
    ),
    # The RETENTION_* periods (docs/privacy.md); a no-op while none is set.
    "retention": (
        "whatsapp-leads-retention",
        "whatsapp_leads.apply_retention",
        "RETENTION_INTERVAL_SECONDS",
    ),
    # Conversions API events a lost task left pending; daily spend per ad from the insights.
    "sweep_conversions": (
        "whatsapp-leads-sweep-conversions",
        "whatsapp_leads.sweep_conversions",
        "CONVERSIONS_SWEEP_INTERVAL_SECONDS",
    ),
    "sync_spend": ("whatsapp-leads-sync-spend", "whatsapp_leads.sync_spend", "SPEND_SYNC_INTERVAL_SECONDS"),
    # First-response SLA breaches that fell due (notify or re-assign; docs/sla.md).
    "check_sla": ("whatsapp-leads-check-sla", "whatsapp_leads.check_sla", "SLA_CHECK_SECONDS"),
}


def interval(key: str) -> float:
    """A job's interval in seconds from ``WHATSAPP_LEADS[key]``; 0 means the job is left out."""
    value = getattr(app_settings, key)
    if value is None or value is False:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(
            f"{setting_label(key)} must be a number of seconds (0 to leave the job out), not {value!r}"
        )
    return float(value)


def beat_schedule(**overrides: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The app's beat entries, keyed by entry name, ready for ``app.conf.beat_schedule``.

    ``overrides`` are keyed by a job's short name (``sweep``, ``sync_campaigns``): a dict is merged
    into that entry (``sweep={"schedule": 30.0}``), None leaves the job out.
    """
    unknown = set(overrides) - set(JOBS)
    if unknown:
        raise TypeError(f"unknown beat job(s) {sorted(unknown)}; the app's jobs are {sorted(JOBS)}")
    schedule: dict[str, dict[str, Any]] = {}
    for short, (entry, task, key) in JOBS.items():
        override = overrides.get(short, {})
        seconds = interval(key)
        if override is None or (not seconds and "schedule" not in override):
            continue
        item: dict[str, Any] = {"task": task, "schedule": seconds}
        if app_settings.TASK_QUEUE:
            item["options"] = {"queue": app_settings.TASK_QUEUE}
        schedule[entry] = {**item, **override}
    return schedule
