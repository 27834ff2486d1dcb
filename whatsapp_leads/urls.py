from django.urls import include, path

from . import views

app_name = "whatsapp_leads"

urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("webhook/<slug:provider>/", views.webhook, name="provider_webhook"),
    path("api/", include("whatsapp_leads.api.urls")),
]
