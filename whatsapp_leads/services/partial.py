"""Model instances from rows of some of their fields, the others deferred, built cheaply.

Django's ``Model.from_db`` given fewer values than concrete fields matches every field's name
against the list of loaded names (a list: fields x names comparisons per row) before calling
the constructor; for a batch of statuses' messages that cost as much as the constructor itself.
Here the positions are worked out once per batch and each row fills a copy of a template of
``DEFERRED`` values, so ``from_db`` takes its direct path. The constructor (and its
``pre_init``/``post_init`` signals) runs as for any loaded instance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.base import DEFERRED

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
    for row in rows:
        values = list(row)
        for n, converter in converters:
            values[n] = converter(values[n], columns[n] if columns else None, connection)
        full = template.copy()
        for slot, value in zip(slots, values, strict=True):
            full[slot] = value
        objects.append(model.from_db(alias, attnames, full))
    return objects
