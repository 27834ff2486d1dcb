"""Meta's template webhooks (``message_template_status_update`` and siblings) as a ``TemplateChange``.

``message_template_id`` is a number in webhooks and a string in the Graph API, so it is read as
text (whatsapp-cloud-api.md §6.1).
"""

from __future__ import annotations

from typing import Any

from ...parsing import coerce
from ..base import TemplateChange

FIELDS = frozenset(
    {"message_template_status_update", "message_template_quality_update", "template_category_update"}
)


def template_change(field: str, value: dict[str, Any]) -> TemplateChange | None:
    if field not in FIELDS:
        return None
    template_id = value.get("message_template_id")
    change = TemplateChange(
        template_id="" if template_id is None else coerce.text(str(template_id)),
        name=coerce.text(value.get("message_template_name")),
        language=coerce.text(value.get("message_template_language")),
        status=coerce.text(value.get("event")) if field == "message_template_status_update" else "",
        reason=coerce.text(value.get("reason")) if field == "message_template_status_update" else "",
        quality=coerce.text(value.get("new_quality_score"))
        if field == "message_template_quality_update"
        else "",
        category=coerce.text(value.get("new_category")) if field == "template_category_update" else "",
    )
    return change if (change.template_id or change.name) else None
