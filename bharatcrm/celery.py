"""The host's Celery app: ``celery -A bharatcrm worker`` and ``celery -A bharatcrm beat``."""

import gc
import os

from celery import Celery
from celery.signals import worker_process_init

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


@worker_process_init.connect(weak=False)
def _freeze_startup_objects(**kwargs) -> None:
    """Move what the worker holds once started (Django, models, the app's modules) out of the GC's sight.

    A drained batch allocates thousands of short-lived objects, and every collection they trigger
    walked those long-lived ones too: 12 % of the CPU of an inbound message (``bench.followups_bench``
    with and without ``gc.freeze``). Frozen objects are never collected, so only what exists when
    the pool process starts is frozen, after a collection.
    """
    gc.collect()
    gc.freeze()
