"""Rows that quote a person without pointing at their lead: statuses that arrived before their
message, account notices about a user we had no lead for, another lead's message quoting them.

Found by searching every text and JSON column of every app model for the person's ids (not their
names: a name alone matches strangers). Rows with no lead of their own are about the person and
go; rows of another lead have the ids, and the person's names, cut out of their text, so that
lead's data stays.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import models
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from ...models import ErasureRecord, Lead, WebhookEvent
from .walk import app_models, lead_paths, text_fields

REPLACEMENT = "[erased]"
# Handled on their own: the inbox is rewritten by the provider; the audit holds no personal data.
# Lead rows are searched too (another lead's last-message preview can quote the person), but only
# ever scrubbed, never deleted, and the erased lead itself is anonymised by the erasure.
SKIPPED = (WebhookEvent, ErasureRecord)


def _query(model: type[models.Model], ids: set[str]) -> tuple[models.QuerySet, bool]:
    """Rows of ``model`` whose text or JSON holds one of ``ids``; False when nothing can match."""
    rows = model._base_manager.all()
    query = Q(pk__in=[])
    for field in text_fields(model):
        name = field.name
        if isinstance(field, models.JSONField):
            alias = f"_privacy_{name}"
            rows = rows.annotate(**{alias: Cast(name, TextField())})
            name = alias
        for value in ids:
            query |= Q(**{f"{name}__contains": value})
    return rows.filter(query), bool(text_fields(model)) and bool(ids)


def mentioning(
    ids: set[str], *, exclude_lead: Lead | None = None
) -> dict[type[models.Model], models.QuerySet]:
    """Per model, the rows quoting ``ids`` that are not (yet) tied to ``exclude_lead``."""
    paths = {p.model: p for p in lead_paths()}
    found: dict[type[models.Model], models.QuerySet] = {}
    for model in app_models():
        if model in SKIPPED:
            continue
        rows, possible = _query(model, ids)
        if not possible:
            continue
        path = paths.get(model)
        if path is not None and exclude_lead is not None:
            rows = rows.exclude(**{path.lookup: exclude_lead})
        elif model is Lead and exclude_lead is not None:
            rows = rows.exclude(pk=exclude_lead.pk)
        found[model] = rows
    return found


def scrub_value(value: Any, ids: set[str]) -> Any:
    if isinstance(value, str):
        for item in sorted(ids, key=len, reverse=True):
            value = value.replace(item, REPLACEMENT)
        return value
    if isinstance(value, list):
        return [scrub_value(v, ids) for v in value]
    if isinstance(value, dict):
        return {scrub_value(k, ids): scrub_value(v, ids) for k, v in value.items()}
    return value


def _scrub_row(row: models.Model, ids: set[str]) -> None:
    changed = []
    for field in text_fields(type(row)):
        if field.unique or field.primary_key:
            continue
        old = getattr(row, field.attname)
        new = scrub_value(old, ids)
        if isinstance(new, str) and getattr(field, "max_length", None):
            new = new[: field.max_length]
        if new != old:
            setattr(row, field.attname, new)
            changed.append(field.attname)
    if changed:
        type(row)._base_manager.filter(pk=row.pk).update(**{name: getattr(row, name) for name in changed})


def remove_mentions(ids: set[str], *, lead: Lead, names: frozenset[str] | set[str] = frozenset()) -> Counter:
    """Delete the person's stray rows and cut their ids and names out of other leads' rows; counts per kind."""
    counts: Counter = Counter()
    if not ids:
        return counts
    paths = {p.model: p for p in lead_paths()}
    for model, rows in mentioning(ids, exclude_lead=lead).items():
        path = paths.get(model)
        if model is Lead:  # another lead's own columns (its last message's preview) quote them
            for row in rows:
                _scrub_row(row, ids | names)
                counts[f"{model._meta.label} (other leads, ids cut out)"] += 1
            continue
        if path is None:
            orphans, others = rows, rows.none()
        else:
            orphans = rows.filter(**{f"{path.lookup}__isnull": True})
            others = rows.filter(**{f"{path.lookup}__isnull": False})
        for row in others:
            _scrub_row(row, ids | names)
            counts[f"{model._meta.label} (other leads, ids cut out)"] += 1
        _, deleted = model._base_manager.filter(pk__in=list(orphans.values_list("pk", flat=True))).delete()
        counts.update({label: n for label, n in deleted.items() if n})
    return counts
