"""Unsaved model instances built as ``Model(**values)`` builds them, for a fraction of its CPU.

The constructor walks every field of the model for each instance (a ``Message`` has fifty),
popping keyword arguments and asking each field for its default: for the inbound paths, which
build a message per follow-up and four rows per new lead, that was the largest single cost
(profiled: a fifth of the inbound mix's CPU, all models). Here the defaults that are immutable values (``None``,
a string, a number, a bool) are worked out once per model and copied into each instance; every
other default (``dict`` for a JSON field, ``timezone.now``, a database default) is asked of its
field for every instance, as the constructor does. The given values are then set by name through
the model's descriptors, so a related instance fills its id and the relation's cache, as with
the constructor.

The result has the same attributes as the constructor's. Whenever that could be observed
otherwise (a ``pre_init``/``post_init`` receiver, a name that is not one of the model's fields,
a model overriding ``__init__``), the constructor itself is called.

``loaded`` does the same for rows read from the database: what ``QuerySet`` iteration and
``Model.from_db`` make, from the queryset's ``values_list`` (the same columns, converted by the
same fields), without the constructor's walk (for the look-up of a batch's leads that walk
was a third of reading them).
"""

from __future__ import annotations

import decimal
import functools
from typing import Any, TypeVar

from django.db import models
from django.db.models import QuerySet
from django.db.models.base import ModelState
from django.db.models.fields import NOT_PROVIDED
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable
from django.db.models.signals import post_init, pre_init

from .partial import constructor_free, loaded_instance

M = TypeVar("M", bound=models.Model)

_IMMUTABLE = (type(None), str, int, bool, float, decimal.Decimal)


def build(model: type[M], **values: Any) -> M:
    """``model(**values)``: an unsaved instance with those field values and every other default."""
    plan = _plan(model)
    if plan is None or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(**values)
    constants, computed, names = plan
    if not names.issuperset(values):
        return model(**values)  # the constructor says what is wrong
    obj = model.__new__(model)
    obj._state = ModelState()
    state = obj.__dict__
    state.update(constants)
    for attname, field in computed:
        state[attname] = field.get_default()
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


def loaded(queryset: QuerySet[M]) -> list[M]:
    """``list(queryset)`` for a plain queryset of whole rows (no ``only``/``defer``, ``select_related``,
    annotations or ``values``); anything else, or a model whose instances could tell, is iterated."""
    model = queryset.model
    query = queryset.query
    attnames = [str(field.attname) for field in model._meta.concrete_fields]
    plain = (
        constructor_free(model, attnames)
        and not query.deferred_loading[0]
        and query.deferred_loading[1]
        and not query.select_related
        and not query.annotations
        and not query.extra
        and queryset._iterable_class is ModelIterable
        and not queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        and not queryset._known_related_objects  # type: ignore[attr-defined]
    )
    if not plain:
        return list(queryset)
    alias = queryset.db
    return [loaded_instance(model, alias, attnames, row) for row in queryset.values_list(*attnames)]


@functools.cache
def _plan(
    model: type[models.Model],
) -> tuple[dict[str, Any], list[tuple[str, models.Field]], frozenset[str]] | None:
    """(immutable defaults by attname, fields whose default is made per instance, names accepted); None
    when the constructor must be used."""
    if model.__init__ is not models.Model.__init__:
        return None
    constants: dict[str, Any] = {}
    computed: list[tuple[str, models.Field]] = []
    names: set[str] = set()
    for field in model._meta.fields:  # the constructor's own walk (``opts.fields``)
        if field.column is None or getattr(field, "generated", False):
            continue
        attname = str(field.attname)
        descriptor = model.__dict__.get(attname)
        if hasattr(descriptor, "__set__") and type(descriptor) not in _PLAIN_SETTERS:
            return None  # setting the default may do more than store it (an image's dimensions)
        names.update({field.name, attname})
        constants[attname] = field.get_default()  # for the others, a place in the constructor's order
        if not _constant_default(field):
            computed.append((attname, field))
    return constants, computed, frozenset(names)


# Descriptors whose ``__set__`` only stores the value (and forgets a cached relation that no
# longer matches, which a fresh instance has none of).
_PLAIN_SETTERS = (FileDescriptor, ForeignKeyDeferredAttribute)


def _constant_default(field: models.Field) -> bool:
    """Whether ``field.get_default()`` is the same immutable value every time (safe to share)."""
    if field.has_default():
        return not callable(field.default) and type(field.default) in _IMMUTABLE
    # No default: None or "" (``Field._get_default``), unless the database provides one.
    return getattr(field, "db_default", NOT_PROVIDED) is NOT_PROVIDED
