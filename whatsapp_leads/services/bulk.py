"""One ``UPDATE ... FROM (VALUES ...)`` for many rows, each with its own values.

Django's ``bulk_update`` writes the same statement as a ``CASE WHEN`` per column per row, and
builds it through the expression machinery: for a batch of a hundred statuses that compiling
cost more than the database's work. This writes the values list directly, typed by the fields
themselves (``get_db_prep_save``, and a cast to the column type on PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

# UPDATE ... FROM arrived in SQLite 3.33; older builds fall back to bulk_update.
SQLITE_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33)


def update_rows(objects: Sequence[models.Model], field_names: Sequence[str]) -> int:
    """Write ``field_names`` of every object (its current attribute values) in one statement."""
    if not objects or not field_names:
        return 0
    model = type(objects[0])
    if connection.vendor not in {"postgresql", "sqlite"} or (
        connection.vendor == "sqlite" and not SQLITE_UPDATE_FROM
    ):
        return model._base_manager.bulk_update(objects, list(field_names))  # pragma: no cover
    meta = model._meta
    fields: list[models.Field] = []
    for name in field_names:
        field = meta.get_field(name)
        if not isinstance(field, models.Field):  # a reverse relation has no column to write
            raise TypeError(f"{meta.label}.{name} is not a concrete field")
        fields.append(field)
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    postgres = connection.vendor == "postgresql"
    placeholders = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    params: list[Any] = []
    for obj in objects:
        params.append(pk.get_db_prep_save(obj.pk, connection))
        params += [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]

    def value(n: int, field: models.Field) -> str:
        column = f"v.column{n}"
        return f"CAST({column} AS {field.db_type(connection)})" if postgres else column

    assignments = ", ".join(
        f"{quote(str(field.column))} = {value(n, field)}" for n, field in enumerate(fields, start=2)
    )
    sql = (
        f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([placeholders] * len(objects))}) AS v"  # noqa: S608
        f" WHERE {table}.{quote(str(pk.column))} = {value(1, pk)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
