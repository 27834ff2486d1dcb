"""The host's Celery app: ``celery -A bharatcrm worker`` and ``celery -A bharatcrm beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bharatcrm.settings")

app = Celery("bharatcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _add_app_schedule(sender: Celery, source, **kwargs) -> None:
    """Merge whatsapp_leads' beat jobs (sweep, campaign sync) under our own CELERY_BEAT_SCHEDULE.

    Done once the configuration is read, because the intervals come from Django settings; our
    entries of the same name would win.
    """
    from whatsapp_leads.schedule import beat_schedule

    source.beat_schedule = beat_schedule() | source.beat_schedule
