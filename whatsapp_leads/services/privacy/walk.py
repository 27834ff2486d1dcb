"""Where a person's data can be: every model of the app, found by walking relations, not by a list.

Erasure and export must cover tables added after them (outbound messages, notes, conversion
events), so nothing here names a model except ``Lead``: ``lead_paths`` walks reverse foreign keys
from ``Lead`` breadth-first (``Conversation`` via ``lead``, ``Message`` via ``conversation__lead``,
``StatusUpdate`` via ``message__conversation__lead``...), and ``text_fields`` lists the columns
that can hold a person's words or ids (char, text, email, URL, JSON). A new model with a foreign
key into that tree is erased and exported with no change here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from django.apps import apps
from django.db import models

from ...models import Lead

APP_LABEL = "whatsapp_leads"

TEXT_TYPES = (models.CharField, models.TextField, models.JSONField)


@dataclass(frozen=True, slots=True)
class LeadPath:
    """A model and the lookup from it to its lead (``conversation__lead``); ``depth`` hops from Lead."""

    model: type[models.Model]
    lookup: str
    depth: int

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows(self, lead: Lead) -> models.QuerySet:
        return self.model._base_manager.filter(**{self.lookup: lead})


def app_models() -> list[type[models.Model]]:
    """The app's concrete models: a proxy (the admin's ``Inbox`` over ``Lead``) shares its table,
    so walking it too would treat the lead itself as a row that merely mentions the person."""
    return [m for m in apps.get_app_config(APP_LABEL).get_models() if not m._meta.proxy]


def lead_paths() -> list[LeadPath]:
    """Every app model with a foreign-key path to Lead, by its shortest path, nearest first."""
    found: dict[type[models.Model], LeadPath] = {}
    queue: deque[tuple[type[models.Model], str, int]] = deque([(Lead, "", 0)])
    while queue:
        model, prefix, depth = queue.popleft()
        for relation in model._meta.related_objects:
            related = relation.related_model
            if not (relation.one_to_many or relation.one_to_one) or related is Lead or related in found:
                continue
            if related._meta.app_label != APP_LABEL:
                continue  # a host's own models: the host erases them on the lead_erased signal
            lookup = f"{relation.field.name}__{prefix}" if prefix else relation.field.name
            found[related] = LeadPath(related, lookup, depth + 1)
            queue.append((related, lookup, depth + 1))
    return sorted(found.values(), key=lambda p: (p.depth, p.label))


def text_fields(model: type[models.Model]) -> list[models.Field]:
    """The columns of ``model`` that can hold free text or structured data about a person."""
    return [f for f in model._meta.concrete_fields if isinstance(f, TEXT_TYPES) and not f.choices]


def file_fields(model: type[models.Model]) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
