"""REST API routes, mounted by ``whatsapp_leads.urls`` at ``api/`` (``/whatsapp/api/`` in bharatcrm).

URL names live in the app's namespace: ``whatsapp_leads:lead-list``, ``whatsapp_leads:lead-detail``,
``whatsapp_leads:lead-messages``, ``whatsapp_leads:lead-assignments``, ``whatsapp_leads:campaign-list``,
``whatsapp_leads:campaign-detail``, ``whatsapp_leads:campaign-numbers``, ``whatsapp_leads:template-list`` and
``whatsapp_leads:api-root``;
the OpenAPI schema is ``whatsapp_leads:api-schema``, read by ``whatsapp_leads:api-swagger`` (Swagger UI)
and ``whatsapp_leads:api-redoc``.
"""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from .fallback import NotFoundView
from .schema import RedocView, SchemaView, SwaggerView
from .views import CampaignViewSet, LeadViewSet, TemplateViewSet

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("templates", TemplateViewSet, basename="template")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("schema/swagger/", SwaggerView.as_view(), name="api-swagger"),
    path("schema/redoc/", RedocView.as_view(), name="api-redoc"),
    *router.urls,
    re_path(r"^.*/$", NotFoundView.as_view(), name="api-not-found"),  # last: only what nothing else took
]
