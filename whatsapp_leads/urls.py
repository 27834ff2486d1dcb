from django.urls import include, path

from . import views

app_name = "whatsapp_leads"

urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("api/", include("whatsapp_leads.api.urls")),
]
