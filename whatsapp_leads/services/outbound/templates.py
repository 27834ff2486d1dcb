"""Message templates: synced from the WhatsApp Business Account, offered only when approved.

A template's blanks are read from its components' text: positional ``{{1}}`` or named
``{{first_name}}``, in text order, per component (header, body, URL buttons). A send may give
Meta's component shape as is, or, for a body-only template, a plain list of values
(``["Asha", "8.4%"]``) which is turned into that shape here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ...conf import app_settings
from ...graph import GraphAPIError, GraphClient
from ...graph.versions import Api
from ...models import MessageTemplate
from ...providers.base import TemplateChange

logger = logging.getLogger(__name__)

BLANK = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
APPROVED = "APPROVED"
FIELDS = "id,name,language,status,category,components,parameter_format,quality_score,rejected_reason"


def parameters_of(components: Iterable[Any]) -> list[dict[str, Any]]:
    """``[{"component": "body", "name": "1", "example": "Asha"}, ...]`` in text order."""
    found: list[dict[str, Any]] = []
    for component in components:
        if not isinstance(component, Mapping):
            continue
        kind = str(component.get("type", "")).lower()
        texts: list[tuple[str, str, str]] = []  # (component label, text, button index)
        if kind in {"header", "body"} and isinstance(component.get("text"), str):
            texts.append((kind, component["text"], ""))
        if kind == "buttons":
            for number, button in enumerate(component.get("buttons") or []):
                if isinstance(button, Mapping) and str(button.get("type", "")).upper() == "URL":
                    texts.append(("button", str(button.get("url", "")), str(number)))
        examples = _examples(component)
        for label, text, index in texts:
            for position, match in enumerate(BLANK.finditer(text)):
                name = match.group(1)
                item = {"component": label, "name": name, "example": examples.get(name, "")}
                if not examples.get(name) and label == "body" and position < len(examples.get("", [])):
                    item["example"] = examples[""][position]
                if index:
                    item["index"] = index
                found.append(item)
    return found


def _examples(component: Mapping[str, Any]) -> dict[str, Any]:
    raw = component.get("example")
    example: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    out: dict[str, Any] = {}
    for named in example.get("body_text_named_params") or example.get("header_text_named_params") or []:
        if isinstance(named, Mapping):
            out[str(named.get("param_name"))] = str(named.get("example", ""))
    positional = example.get("body_text") or []
    if positional and isinstance(positional[0], list):
        out[""] = [str(v) for v in positional[0]]
    return out


def preview(template: MessageTemplate, values: Mapping[str, str] | list[str]) -> str:
    """The body with its blanks filled (missing values stay as ``{{name}}``), for the admin's preview."""
    body = next(
        (c.get("text", "") for c in template.components if str(c.get("type", "")).upper() == "BODY"), ""
    )
    if isinstance(values, list):
        values = {str(i + 1): v for i, v in enumerate(values)}
    return BLANK.sub(lambda m: str(values.get(m.group(1)) or m.group(0)), str(body))


def components_from_values(template: MessageTemplate | None, values: list[Any]) -> list[dict[str, Any]]:
    """A plain list of body values as Meta's components; named blanks get their ``parameter_name``."""
    names = [p["name"] for p in (template.parameters if template else []) if p.get("component") == "body"]
    named = bool(template and template.parameter_format.upper() == "NAMED")
    parameters = []
    for index, value in enumerate(values):
        parameter: dict[str, Any] = {"type": "text", "text": str(value)}
        if named and index < len(names):
            parameter["parameter_name"] = names[index]
        parameters.append(parameter)
    return [{"type": "body", "parameters": parameters}] if parameters else []


def approved() -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(status=APPROVED).order_by("name", "language")


def find(name: str, language: str) -> MessageTemplate | None:
    waba = (app_settings.BUSINESS_ACCOUNT_ID or "").strip()
    rows = MessageTemplate.objects.filter(name=name, language=language)
    if waba:
        rows = rows.filter(waba_id=waba)
    return rows.order_by("-synced_at", "-pk").first()


# --- sync ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncReport:
    seen: int = 0
    created: int = 0
    updated: int = 0
    pages: int = 0
    approved: int = 0
    error: str = ""


def store(waba_id: str, item: Mapping[str, Any]) -> tuple[MessageTemplate, bool]:
    """One template from Meta's list into its row (created or updated)."""
    raw_components = item.get("components")
    components: list[Any] = raw_components if isinstance(raw_components, list) else []
    quality = item.get("quality_score")
    values = {
        "template_id": str(item.get("id", ""))[:64],
        "category": str(item.get("category") or "")[:32],
        "status": str(item.get("status") or "")[:32],
        "quality": str(quality.get("score", "") if isinstance(quality, Mapping) else quality or "")[:16],
        "parameter_format": str(item.get("parameter_format") or "POSITIONAL")[:16],
        "components": components,
        "parameters": parameters_of(components),
        "rejected_reason": str(item.get("rejected_reason") or "")[:64],
        "synced_at": timezone.now(),
    }
    return MessageTemplate.objects.update_or_create(
        waba_id=waba_id, name=str(item["name"])[:512], language=str(item["language"])[:16], defaults=values
    )


def sync_templates(
    *,
    waba_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    client: GraphClient | None = None,
) -> SyncReport:
    """Every template of the WABA, following ``paging.next``; raises ``GraphAPIError`` on failure."""
    waba = (waba_id or app_settings.BUSINESS_ACCOUNT_ID or "").strip()
    if not waba:
        raise GraphAPIError(
            "No WhatsApp Business Account is configured: set WHATSAPP_BUSINESS_ACCOUNT_ID "
            "(WHATSAPP_LEADS['BUSINESS_ACCOUNT_ID']).",
            retryable=False,
        )
    seen = created = updated = pages = approved_count = 0
    own = client is None
    client = client or GraphClient.from_settings(api=Api.CLOUD)
    try:
        for page in client.paginate(f"{waba}/message_templates", params={"fields": FIELDS, "limit": 100}):
            pages += 1
            for item in page:
                if not item.get("name") or not item.get("language"):
                    continue
                _, was_created = store(waba, item)
                seen += 1
                created += was_created
                updated += not was_created
                approved_count += item.get("status") == APPROVED
            if progress:
                progress(f"page {pages}: {seen} templates so far")
    finally:
        if own:
            client.close()
    return SyncReport(seen=seen, created=created, updated=updated, pages=pages, approved=approved_count)


def scheduled_sync() -> dict[str, Any]:
    """Beat job: a logged no-op without a token or a WABA id."""
    if not (app_settings.ACCESS_TOKEN and app_settings.BUSINESS_ACCOUNT_ID):
        logger.info("template sync skipped: WHATSAPP_ACCESS_TOKEN or WHATSAPP_BUSINESS_ACCOUNT_ID not set")
        return {"skipped": True}
    try:
        report = sync_templates()
    except GraphAPIError as exc:
        logger.warning("template sync failed: %s", exc)
        return {"error": str(exc)}
    return {"seen": report.seen, "created": report.created, "updated": report.updated}


# --- webhooks ----------------------------------------------------------------------------------


def apply_change(change: TemplateChange, *, waba_id: str) -> int:
    """Update the rows a template notice names; how many changed. Unknown templates wait for the sync."""
    rows = MessageTemplate.objects.all()
    if change.template_id:
        rows = rows.filter(template_id=change.template_id)
    else:
        rows = rows.filter(name=change.name, **({"language": change.language} if change.language else {}))
    if waba_id:
        rows = rows.filter(waba_id=waba_id)
    updates: dict[str, Any] = {}
    if change.status:
        updates["status"] = change.status[:32]
        updates["rejected_reason"] = change.reason[:64] if change.status == "REJECTED" else ""
    if change.quality:
        updates["quality"] = change.quality[:16]
    if change.category:
        updates["category"] = change.category[:32]
    if not updates:
        return 0
    return rows.update(**updates, updated_at=timezone.now())
