"""The error answers of the REST API, described for the OpenAPI schema (``extend_schema(responses=...)``).

DRF answers every refusal in one of two shapes: ``{"detail": "..."}`` (401, 403, 404, 405) or a
validation error, an object naming each bad field or parameter with a list of messages (400).
Describing them once here keeps every operation's documented answers the same as what it sends,
which ``scripts/api_contract.py`` checks against a live server.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .filters import NO_NUL, LeadFilterSet


class ErrorSerializer(serializers.Serializer):
    """DRF's answer to a refused request: one sentence saying why."""

    detail = serializers.CharField(help_text="Why the request was refused.")


def _messages(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), required=False, help_text=help_text)


# A 400 of the lead list names each bad query parameter: LeadFilterSet's, search and page_size.
LeadFilterError = inline_serializer(
    name="LeadFilterError",
    fields={
        name: _messages(f"What is wrong with ?{name}=.") for name in (*LeadFilterSet.base_filters, "search")
    },
)

# A 400 of a request body or of another operation's query: field name -> messages.
VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "Each refused field (or non_field_errors) with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

UNAUTHENTICATED = OpenApiResponse(ErrorSerializer, description="No or wrong credentials.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Logged in, but without the model permission.")
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="No such object, or one you may not see (another rep's lead), or a page past the end.",
)


def errors(*, bad_request: Any = None, not_found: bool = True) -> dict[int, Any]:
    """The error answers of one operation: 401 and 403 always, 400 and 404 when it can send them."""
    answers: dict[int, Any] = {401: UNAUTHENTICATED, 403: FORBIDDEN}
    if bad_request is not None:
        answers[400] = bad_request
    if not_found:
        answers[404] = NOT_FOUND
    return answers


# A 400 of a request with a body: the body's fields, or ``{"detail": ...}`` when it does not parse.
BODY_ERROR: dict[str, Any] = {
    "anyOf": [VALIDATION_ERROR, {"$ref": "#/components/schemas/Error"}],
    "description": "The refused fields, or why the body could not be read (e.g. not JSON).",
}


def invalid(description: str, *, body: bool = False) -> OpenApiResponse:
    """A 400: a validation error, or with ``body`` also DRF's parse error of a malformed body."""
    return OpenApiResponse(BODY_ERROR if body else VALIDATION_ERROR, description=description)


class ClosedLeadUpdateBody(OpenApiSerializerExtension):
    """The PATCH body is closed (``additionalProperties: false``): the serializer refuses any field
    it does not take by name (``LeadUpdateSerializer.validate``), and the schema says so; its text
    fields take no NUL character."""

    target_class = "whatsapp_leads.api.serializers.LeadUpdateSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        # DRF's CharField refuses a NUL character (400); the schema says so too.
        for prop in schema["properties"].values():
            if prop.get("type") == "string" and prop.get("format") != "decimal":
                prop["pattern"] = NO_NUL
        # DRF's DecimalField takes a JSON number as well as the decimal string it answers with.
        value = schema["properties"].get("deal_value")
        if value is not None:
            nullable = value.pop("nullable", False)
            schema["properties"]["deal_value"] = {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": 999999999999.99},
                    {**value, "pattern": r"^\d{1,12}(?:\.\d{1,2})?$"},  # not negative
                    {"type": "string", "maxLength": 0},  # "" clears it, as null does
                ],
                **({"nullable": True} if nullable else {}),
            }
        return {**schema, "additionalProperties": False}
