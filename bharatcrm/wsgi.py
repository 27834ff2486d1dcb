"""WSGI entry point for gunicorn: ``gunicorn bharatcrm.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bharatcrm.settings")
application = get_wsgi_application()
