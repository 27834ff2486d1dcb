"""BharatCRM: the thin host project that shows how a CRM plugs in ``whatsapp_leads``."""

from .celery import app as celery_app

__all__ = ("celery_app",)
