from django.apps import AppConfig


class WhatsAppLeadsConfig(AppConfig):
    name = "whatsapp_leads"
    verbose_name = "WhatsApp leads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from . import checks  # noqa: F401  (registers system checks)
        from .models import Lead
        from .services.conversions.outbox import lead_saved

        # Conversions API stage trigger: records (after commit) the events a lead's new state earns.
        post_save.connect(lead_saved, sender=Lead, dispatch_uid="whatsapp_leads.conversions")
        from .services.notifications import on_lead_assigned
        from .signals import lead_assigned

        lead_assigned.connect(on_lead_assigned, dispatch_uid="whatsapp_leads.email_new_owner")
        from .services.sla.notify import on_sla_breached
        from .signals import sla_breached

        sla_breached.connect(on_sla_breached, dispatch_uid="whatsapp_leads.email_sla_breach")
