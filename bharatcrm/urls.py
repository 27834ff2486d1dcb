"""Host URLs: a landing page, the admin, the WhatsApp app mounted at ``whatsapp/`` and a bare health check."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.generic import TemplateView


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe for load balancers; also the bare-Django baseline that ``make bench`` compares to."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    # What this site is, with the way in (the admin's "View site" link lands here).
    path("", TemplateView.as_view(template_name="bharatcrm/home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("whatsapp/", include("whatsapp_leads.urls")),
    path("healthz/", healthz, name="healthz"),
]
