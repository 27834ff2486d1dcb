"""A person's data as one JSON document, to answer a data principal's request for access.

The same walk as the erasure, so whatever an erasure would remove is what the person is shown:
the lead, every row on a foreign-key path to it (threads, messages, statuses, history, Flow
answers, notes...), rows elsewhere that quote their ids, the list of stored files, and which raw
webhook bodies mention them. Values are exported as stored; binary columns are left out.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from ...models import Lead
from .bodies import candidates
from .identities import identities_of
from .mentions import mentioning
from .walk import file_fields, lead_paths

FORMAT = "whatsapp_leads.person_export/1"


def row_dict(row: models.Model) -> dict[str, Any]:
    """Every concrete column of ``row`` by name (foreign keys as their id, files as their name)."""
    out: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        value = field.value_from_object(row)
        if isinstance(field, models.BinaryField):
            continue
        if isinstance(field, models.FileField):
            value = value.name if value else ""
        elif isinstance(value, memoryview | bytes):
            value = base64.b64encode(bytes(value)).decode()
        out[field.attname] = value
    return out


def _files(lead: Lead) -> list[dict[str, Any]]:
    files = []
    for path in lead_paths():
        for field in file_fields(path.model):
            for row in path.rows(lead).exclude(**{field.attname: ""}).order_by("pk"):
                stored = getattr(row, field.attname)
                entry = {"kind": path.label, "row": row.pk, "field": field.name, "name": stored.name}
                for extra in (
                    "wamid",
                    "media_mime_type",
                    "media_size",
                    "media_sha256",
                    "media_downloaded_at",
                ):
                    if hasattr(row, extra):
                        entry[extra] = getattr(row, extra)
                files.append(entry)
    return files


def _bodies(needles: set[str]) -> list[int]:
    return [pk for pk, _, _ in candidates([n.encode() for n in needles if n])]


def export_person(lead: Lead) -> dict[str, Any]:
    """The JSON-ready document of everything stored about the person behind ``lead``."""
    who = identities_of(lead)
    related = {path.label: [row_dict(r) for r in path.rows(lead).order_by("pk")] for path in lead_paths()}
    mentions = {
        model._meta.label: [row_dict(r) for r in rows.order_by("pk")]
        for model, rows in mentioning(who.ids, exclude_lead=lead).items()
        if model is not Lead  # another lead's columns are that person's data, not this one's
    }
    return {
        "format": FORMAT,
        "exported_at": timezone.now(),
        "lead": row_dict(lead),
        "related": {k: v for k, v in related.items() if v},
        "mentions": {k: v for k, v in mentions.items() if v},
        "files": _files(lead),
        "webhook_events_mentioning": _bodies(who.everything),
    }


def export_json(leads: list[Lead], *, indent: int | None = 2) -> str:
    """One document for one lead, a list of documents for several (a person with two leads)."""
    documents = [export_person(lead) for lead in leads]
    data: Any = documents[0] if len(documents) == 1 else documents
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=indent)
