"""Message templates in the admin: read-only rows from Meta, each with its blanks and a live preview.

Templates are made and approved in Meta's WhatsApp Manager; here they are looked at, never edited
(the next sync would undo an edit). The preview fills the body's blanks as you type examples.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..models import MessageTemplate
from ..services.outbound.templates import preview


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "category", "status", "quality", "synced_at")
    list_filter = ("status", "category", "language")
    search_fields = ("name", "template_id")
    readonly_fields = (
        "name", "language", "category", "status", "quality", "parameter_format", "template_id", "waba_id",
        "rejected_reason", "synced_at", "parameter_fields",
    )  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MessageTemplate | None = None) -> bool:
        return False

    @admin.display(description="Parameters and preview")
    def parameter_fields(self, obj: MessageTemplate) -> str:
        inputs = format_html_join(
            "",
            '<p><label>{} <code>{{{{{}}}}}</code> <input type="text" class="wl-tpl-param" data-name="{}" '
            'value="{}" aria-label="Value for {}"></label></p>',
            ((p["component"], p["name"], p["name"], p.get("example", ""), p["name"]) for p in obj.parameters),
        )
        body = next(
            (c.get("text", "") for c in obj.components if str(c.get("type", "")).upper() == "BODY"), ""
        )
        examples = {p["name"]: p.get("example", "") for p in obj.parameters}
        return format_html(
            '{}<p>Preview:</p><div id="wl-tpl-preview" style="background:#d9fdd3;padding:6px 10px;'
            'border-radius:8px;white-space:pre-wrap">{}</div>'
            "<script>(function(){{var body={};function render(){{var v={{}};"
            'document.querySelectorAll(".wl-tpl-param").forEach(function(i){{v[i.dataset.name]=i.value;}});'
            'document.getElementById("wl-tpl-preview").textContent=body.replace(/\\{{\\{{\\s*([A-Za-z0-9_]+)\\s*\\}}\\}}/g,'
            "function(a,n){{return v[n]||a;}});}}"
            'document.querySelectorAll(".wl-tpl-param").forEach(function(i){{i.addEventListener("input",render);}});}})();</script>',
            inputs,
            preview(obj, examples),
            script_json(body),
        )


def script_json(value: object) -> str:
    """JSON safe inside a <script> element: no character there can end the element or start markup."""
    text = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)  # noqa: S308 (escaped for a script context just above)
