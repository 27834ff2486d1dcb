"""WSGI entry point for gunicorn: ``gunicorn bharatcrm.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bharatcrm.settings")
django_application = get_wsgi_application()
# Django imports the URLconf (and with it the admin, DRF and the API's views and serializers) on
# the first request, not here: measured 0.46 s on the shared 2-core machine, which the first
# webhooks after every start or worker restart would wait for (a burst of provider retries
# queued behind one import). Loading it with the application moves that to boot, before gunicorn
# logs the worker ready, and lets gunicorn.conf.py freeze those objects with the rest.
URL_PATTERNS = get_resolver().url_patterns
# Signed webhook POSTs go straight to the webhook view (whatsapp_leads/wsgi.py says what they skip);
# everything else, the handshake included, is Django's as before.
from whatsapp_leads.wsgi import with_webhook_fast_path  # noqa: E402  (imports models: after setup)

application = with_webhook_fast_path(django_application)
