"""The host's Celery app: ``celery -A bharatcrm worker`` and ``celery -A bharatcrm beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bharatcrm.settings")

app = Celery("bharatcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
