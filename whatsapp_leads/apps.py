from django.apps import AppConfig


class WhatsAppLeadsConfig(AppConfig):
    name = "whatsapp_leads"
    verbose_name = "WhatsApp leads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
