"""``POST /leads/{id}/messages/``: a rep's send through the outbox, and ``GET /templates/``.

A send answers 202 with the stored message once it is queued (delivery happens in a worker), or
409 with ``{"code": "window_closed" | "opted_out" | ..., "detail": "<words for the rep>"}`` when
a rule refuses it; nothing is stored or queued then. Sending needs ``change_lead`` and the lead
must be one the user may see (another rep's lead is a 404, found before the body is read).
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import Lead, Message, MessageTemplate
from ..services.outbound import outbox
from ..services.outbound.refusal import Refusal

SEND_PERMISSION = "whatsapp_leads.change_lead"


class MaySend(BasePermission):
    message = "Sending messages needs the whatsapp_leads.change_lead permission."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(SEND_PERMISSION))


class MayListTemplates(BasePermission):
    """Whoever may work leads may see the templates they can send (no separate template permission)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (
                user.has_perm("whatsapp_leads.view_lead")
                or user.has_perm("whatsapp_leads.view_messagetemplate")
            )
        )


class TemplateSendSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=16)
    components = serializers.ListField(child=serializers.DictField(), required=False)
    parameters = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)


# Text with something to read and no NUL (which no database column holds); the same pattern is
# the OpenAPI schema's, so a schema-valid body is never refused for its text.
MESSAGE_TEXT = RegexValidator(r"^(?=[^\u0000]*\S)[^\u0000]*$", "Write some text (not only spaces).")


class SendSerializer(serializers.Serializer):
    """Exactly one of ``text`` or ``template``; ``preview_url`` for links in a text."""

    text = serializers.CharField(
        required=False, max_length=4096, trim_whitespace=False, validators=[MESSAGE_TEXT]
    )
    preview_url = serializers.BooleanField(required=False, default=False)
    template = TemplateSendSerializer(required=False)
    reply_to = serializers.CharField(required=False, allow_blank=True, max_length=255)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if bool(data.get("text", "").strip()) == bool(data.get("template")):
            raise serializers.ValidationError("Send either a non-empty 'text' or a 'template', not both.")
        return data


class TextSendBody(serializers.Serializer):
    """A free-form text (inside the 24-hour window)."""

    text = serializers.CharField(max_length=4096, trim_whitespace=False, validators=[MESSAGE_TEXT])
    preview_url = serializers.BooleanField(required=False, default=False)
    reply_to = serializers.CharField(required=False, allow_blank=True, max_length=255)


class TemplateSendBody(serializers.Serializer):
    """An approved template, at any time."""

    template = TemplateSendSerializer()
    reply_to = serializers.CharField(required=False, allow_blank=True, max_length=255)


# The request body as the schema states it: one of the two shapes, never both, never neither.
SEND_BODY = PolymorphicProxySerializer(
    component_name="SendBody", serializers=[TextSendBody, TemplateSendBody], resource_type_field_name=None
)


class SentMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ("id", "direction", "status", "send_state", "type", "text", "timestamp", "wamid")
        read_only_fields = fields


class TemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = (
            "id",
            "name",
            "language",
            "category",
            "status",
            "quality",
            "parameter_format",
            "parameters",
            "components",
        )
        read_only_fields = fields


class RefusalSerializer(serializers.Serializer):
    """Why a send was refused (409): a stable code and a sentence a rep understands."""

    code = serializers.ChoiceField(
        choices=["window_closed", "opted_out", "template_not_approved", "no_address"]
    )
    detail = serializers.CharField()


def refusal_response(refusal: Refusal) -> Response:
    return Response({"code": refusal.code, "detail": refusal.words}, status=status.HTTP_409_CONFLICT)


def send(request: Request, lead: Lead) -> Response:
    body = SendSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    if data.get("template"):
        kind, content = "template", dict(data["template"])
    else:
        kind, content = "text", {"body": data["text"], "preview_url": data["preview_url"]}
    try:
        result = outbox.queue_send(lead, kind=kind, content=content, by=request.user, origin="api",
                                   reply_to=data.get("reply_to", ""))  # fmt: skip
    except ValueError as exc:
        raise serializers.ValidationError({"detail": str(exc)}) from None
    if isinstance(result, Refusal):
        return refusal_response(result)
    return Response(SentMessageSerializer(result).data, status=status.HTTP_202_ACCEPTED)
