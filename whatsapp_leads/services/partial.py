"""Model instances from rows of some of their fields, the others deferred, built cheaply.

Django's ``Model.from_db`` given fewer values than concrete fields matches every field's name
against the list of loaded names (a list: fields x names comparisons per row) before calling
the constructor; for a batch of statuses' messages that cost as much as the constructor itself.
Here the positions are worked out once per batch and each row fills a copy of a template of
``DEFERRED`` values, so ``from_db`` takes its direct path. The constructor (and its
``pre_init``/``post_init`` signals) runs as for any loaded instance.

When nothing can tell the difference (the model keeps ``Model``'s ``__init__`` and ``from_db``,
no ``pre_init``/``post_init`` receiver listens to it, and every loaded field's attribute is a
plain deferred attribute or a file's), the instance is built as the constructor would leave it: a fresh
``ModelState`` (loaded from ``alias``, not adding) and the loaded values in its ``__dict__``, the
others absent, which is what makes a field deferred. The constructor walks every concrete field
(fifty for a message), so for a batch's messages and events it was most of the cost.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.base import DEFERRED, ModelState
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=models.Model)


def partial_instances(
    model: type[M],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    converters: Sequence[tuple[int, Callable[..., Any]]] = (),
    columns: Sequence[Any] = (),
) -> list[M]:
    """Instances of ``model`` from ``rows`` holding the fields ``names`` (in that order).

    ``converters``: (position in the row, converter) as a queryset applies them (``columns``
    gives each position's expression, the converters' second argument).
    """
    concrete = model._meta.concrete_fields
    position = {str(field.attname): n for n, field in enumerate(concrete)}
    slots = [position[str(model._meta.get_field(name).attname)] for name in names]  # type: ignore[union-attr]
    attnames = [str(field.attname) for field in concrete]
    template: list[Any] = [DEFERRED] * len(concrete)
    alias = connection.alias
    objects = []
    loaded = [attnames[slot] for slot in slots]
    if constructor_free(model, loaded):
        for row in rows:
            values = list(row)
            for n, converter in converters:
                values[n] = converter(values[n], columns[n] if columns else None, connection)
            objects.append(loaded_instance(model, alias, loaded, values))
        return objects
    for row in rows:
        values = list(row)
        for n, converter in converters:
            values[n] = converter(values[n], columns[n] if columns else None, connection)
        full = template.copy()
        for slot, value in zip(slots, values, strict=True):
            full[slot] = value
        objects.append(model.from_db(alias, attnames, full))
    return objects


def raw_instances(model: type[M], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[M]:
    """``partial_instances`` for rows our own SQL fetched: each column converted as a queryset converts it
    (the backend's converters, then the field's)."""
    meta = model._meta
    columns = [meta.get_field(name).get_col(meta.db_table) for name in names]  # type: ignore[union-attr]
    converters = [
        (n, converter)
        for n, column in enumerate(columns)
        for converter in [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
    ]
    return partial_instances(model, names, rows, converters=converters, columns=columns)


def constructor_free(model: type[models.Model], attnames: Sequence[str]) -> bool:
    """Whether an instance of ``model`` with these attributes loaded can skip the constructor (module docstring)."""
    overridden = {"__init__", "from_db"}
    for klass in model.__mro__:
        if klass is models.Model:
            break
        if overridden & vars(klass).keys():
            return False
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return False
    return all(type(inspect.getattr_static(model, name, None)) in _PLAIN_ATTRIBUTES for name in attnames)


def loaded_instance(model: type[M], alias: str, attnames: Sequence[str], values: Iterable[Any]) -> M:
    """An instance as ``from_db`` leaves it, for a model and attributes ``constructor_free`` accepts."""
    obj = model.__new__(model)
    state = ModelState()
    state.adding, state.db = False, alias
    obj._state = state
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj


# Attributes whose value the constructor only stores (a file's is wrapped when read, either way).
_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute, FileDescriptor)
