from django.apps import AppConfig


class WhatsAppLeadsConfig(AppConfig):
    name = "whatsapp_leads"
    verbose_name = "WhatsApp leads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
        from .services.notifications import on_lead_assigned
        from .signals import lead_assigned

        lead_assigned.connect(on_lead_assigned, dispatch_uid="whatsapp_leads.email_new_owner")
