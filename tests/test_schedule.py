"""The beat schedule the app offers, and the host's Celery app running it."""

from __future__ import annotations

import pytest
from celery import Celery

from bharatcrm.celery import _add_app_schedule
from bharatcrm.celery import app as celery_app
from whatsapp_leads.schedule import beat_schedule

SWEEP, SYNC = "whatsapp-leads-sweep", "whatsapp-leads-sync-campaigns"
TEMPLATES = "whatsapp-leads-sync-templates"
RETENTION = "whatsapp-leads-retention"
CONVERSIONS, SPEND = "whatsapp-leads-sweep-conversions", "whatsapp-leads-sync-spend"
SLA = "whatsapp-leads-check-sla"


def configure(settings, **values) -> None:
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, **values}


def test_the_app_offers_the_sweep_often_and_the_campaign_sync_template_sync_and_retention_hourly():
    assert beat_schedule() == {
        SWEEP: {"task": "whatsapp_leads.sweep_pending_events", "schedule": 10.0},
        SYNC: {"task": "whatsapp_leads.sync_campaigns", "schedule": 3600.0},
        TEMPLATES: {"task": "whatsapp_leads.sync_templates", "schedule": 3600.0},
        RETENTION: {"task": "whatsapp_leads.apply_retention", "schedule": 3600.0},
        CONVERSIONS: {"task": "whatsapp_leads.sweep_conversions", "schedule": 60.0},
        SPEND: {"task": "whatsapp_leads.sync_spend", "schedule": 21600.0},
        SLA: {"task": "whatsapp_leads.check_sla", "schedule": 60.0},
    }


def test_the_spend_sync_interval_comes_from_its_setting(settings):
    configure(settings, SPEND_SYNC_INTERVAL_SECONDS=3600, CONVERSIONS_SWEEP_INTERVAL_SECONDS=30)
    schedule = beat_schedule()
    assert (schedule[SPEND]["schedule"], schedule[CONVERSIONS]["schedule"]) == (3600.0, 30.0)


def test_intervals_come_from_the_app_settings(settings):
    configure(settings, SWEEP_INTERVAL_SECONDS=15, CAMPAIGN_SYNC_INTERVAL_SECONDS=900)
    schedule = beat_schedule()
    assert (schedule[SWEEP]["schedule"], schedule[SYNC]["schedule"]) == (15.0, 900.0)


def test_an_interval_of_zero_leaves_the_job_out(settings):
    configure(
        settings,
        CAMPAIGN_SYNC_INTERVAL_SECONDS=0,
        RETENTION_INTERVAL_SECONDS=0,
        SPEND_SYNC_INTERVAL_SECONDS=0,
    )
    assert list(beat_schedule()) == [SWEEP, TEMPLATES, CONVERSIONS, SLA]


def test_the_jobs_go_to_the_apps_task_queue_when_one_is_set(settings):
    configure(settings, TASK_QUEUE="whatsapp")
    assert {entry["options"]["queue"] for entry in beat_schedule().values()} == {"whatsapp"}


def test_a_host_can_change_or_drop_a_job_by_its_short_name():
    schedule = beat_schedule(
        sweep={"schedule": 30.0, "options": {"expires": 25}},
        sync_campaigns=None,
        sync_templates=None,
        retention=None,
        sweep_conversions=None,
        sync_spend=None,
        check_sla=None,
    )
    assert schedule == {
        SWEEP: {"task": "whatsapp_leads.sweep_pending_events", "schedule": 30.0, "options": {"expires": 25}}
    }


def test_an_override_for_a_job_the_app_does_not_have_is_refused():
    with pytest.raises(TypeError, match="sweep_events"):
        beat_schedule(sweep_events={"schedule": 30.0})


def test_the_hosts_beat_schedule_holds_the_apps_jobs_as_registered_tasks():
    # What a worker or beat does at start: import every installed app's tasks module
    # (autodiscovery is lazy, so without this the test depended on another test importing them).
    celery_app.loader.import_default_modules()
    schedule = celery_app.conf.beat_schedule
    for name, entry in beat_schedule().items():
        assert schedule[name]["task"] == entry["task"]
        assert entry["task"] in celery_app.tasks


def test_host_entries_win_over_the_apps_and_are_kept():
    host = Celery("host-under-test", set_as_current=False)
    host.config_from_object(
        {
            "beat_schedule": {
                SWEEP: {"task": "whatsapp_leads.sweep_pending_events", "schedule": 5.0},
                "crm-nightly-report": {"task": "crm.report", "schedule": 86400.0},
            }
        }
    )
    host.on_after_configure.connect(_add_app_schedule)

    schedule = host.conf.beat_schedule

    assert schedule[SWEEP]["schedule"] == 5.0
    assert schedule[SYNC]["task"] == "whatsapp_leads.sync_campaigns"
    assert "crm-nightly-report" in schedule


def test_the_sla_checker_runs_every_sla_check_seconds_and_zero_leaves_it_out(settings):
    configure(settings, SLA_CHECK_SECONDS=15)
    assert beat_schedule()[SLA]["schedule"] == 15.0
    configure(settings, SLA_CHECK_SECONDS=0)
    assert SLA not in beat_schedule()
