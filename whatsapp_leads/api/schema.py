"""The REST API's OpenAPI 3 schema (drf-spectacular) and its two readers, Swagger UI and Redoc.

The schema describes this app's API only, wherever the host mounts it: the generator keeps the
app's viewsets and drops whatever else the host's URLconf routes to DRF. Title, version and the
served UI files are set on the views (``custom_settings`` / ``patched_settings``), so a host needs
no ``SPECTACULAR_SETTINGS`` of its own; Swagger UI and Redoc come from drf-spectacular-sidecar's
static files, and the Redoc page drops the stock template's Google Fonts links, so the pages
load nothing from another host.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSetMixin

SCHEMA_URL_NAME = "whatsapp_leads:api-schema"

SETTINGS: dict[str, Any] = {
    "TITLE": "whatsapp_leads REST API",
    "DESCRIPTION": (
        "Leads from Click-to-WhatsApp ads, their transcripts and owners, and campaigns. "
        "A sales rep sees only the leads they own (any other is a 404); managers see every lead."
    ),
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "whatsapp_leads.api.schema.require_one_of_bodies",
    ],
    # Lead and Message both have a `status`; name their enums instead of a hash suffix.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "whatsapp_leads.models.Lead.Status",
        "MessageStatusEnum": "whatsapp_leads.models.Message.Status",
    },
}


def require_one_of_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Mark a request body that is one of several shapes (``SendBody``) as required.

    drf-spectacular derives ``required`` from a serializer's required fields, which a
    ``oneOf`` of serializers does not have at its top; every such body here is required (a send
    with no body is a 400), and the schema must say so.
    """
    components = result.get("components", {}).get("schemas", {})
    for item in result.get("paths", {}).values():
        for operation in item.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body:
                continue
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if "oneOf" in components.get(ref.rsplit("/", 1)[-1], {}):
                    body["required"] = True
    return result


def is_app_endpoint(callback: Any) -> bool:
    """A route to one of this app's viewsets (not the router's root, not a host's own API)."""
    cls = getattr(callback, "cls", None)
    return bool(cls and issubclass(cls, ViewSetMixin) and cls.__module__.startswith("whatsapp_leads."))


class AppSchemaGenerator(SchemaGenerator):
    """drf-spectacular's generator over this app's endpoints only."""

    def _initialise_endpoints(self) -> None:
        super()._initialise_endpoints()
        # (path, path regex, method, view): the view is the last item
        self.endpoints = [endpoint for endpoint in self.endpoints or [] if is_app_endpoint(endpoint[-1])]


class SchemaView(SpectacularAPIView):
    """``GET /whatsapp/api/schema/``: YAML by default, JSON with ``?format=json`` or by Accept."""

    generator_class = AppSchemaGenerator
    custom_settings = SETTINGS


class SwaggerView(SpectacularSwaggerView):
    url_name = SCHEMA_URL_NAME
    title = SETTINGS["TITLE"]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with patched_settings(SETTINGS):
            return super().get(request, *args, **kwargs)


class RedocView(SpectacularRedocView):
    url_name = SCHEMA_URL_NAME
    template_name = "whatsapp_leads/api/redoc.html"  # without the stock page's Google Fonts links
    title = SETTINGS["TITLE"]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with patched_settings(SETTINGS):
            return super().get(request, *args, **kwargs)
