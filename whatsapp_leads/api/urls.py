"""REST API routes, mounted by ``whatsapp_leads.urls`` at ``api/`` (``/whatsapp/api/`` in bharatcrm).

URL names live in the app's namespace: ``whatsapp_leads:lead-list``, ``whatsapp_leads:lead-detail``,
``whatsapp_leads:lead-messages``, ``whatsapp_leads:lead-assignments``, ``whatsapp_leads:campaign-list``,
``whatsapp_leads:campaign-detail``, ``whatsapp_leads:campaign-numbers``, ``whatsapp_leads:template-list`` and ``whatsapp_leads:api-root``.
"""

from rest_framework.routers import DefaultRouter

from .views import CampaignViewSet, LeadViewSet, TemplateViewSet

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("templates", TemplateViewSet, basename="template")

urlpatterns = router.urls
