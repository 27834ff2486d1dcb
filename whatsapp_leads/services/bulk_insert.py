"""One ``INSERT ... SELECT FROM jsonb_to_recordset(...) RETURNING id`` for many new rows.

``bulk_create`` on PostgreSQL sends one array parameter per column (``UNNEST``), and the driver's
client-side binding quotes every element of every array: for a run of new leads (four tables,
forty-odd columns) that quoting and Django's per-value preparation cost more CPU than the
leads themselves (profiled: half of a set-based run). Here the rows go as the one JSON parameter
``bulk.json_rows`` makes, as ``statuses`` already sends its rows. On SQLite, whose ``bulk_create`` spends as much in
preparing every value through the query compiler, the rows go as one multi-row ``VALUES``
whose plain values (text, numbers, keys) are passed as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from .bulk import flat_params, json_rows, record_type


def insert_rows(objects: Sequence[models.Model]) -> None:
    """Insert ``objects`` (one model, none saved) and give each its primary key, as ``bulk_create`` does.

    No ``pre_save``/``post_save`` is sent (as with ``bulk_create``); a conflict raises ``IntegrityError``.
    """
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor not in {"postgresql", "sqlite"} or (
        connection.vendor == "sqlite" and not connection.features.can_return_rows_from_bulk_insert
    ):
        model._base_manager.bulk_create(list(objects))  # pragma: no cover
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="insert_rows")  # type: ignore[attr-defined]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    returning = f" RETURNING {quote(str(pk.column))}"  # in the rows' order, as bulk_create relies on
    params: list[Any]
    if connection.vendor == "postgresql":
        values = ", ".join(f"v.{quote(str(f.column))}" for f in fields)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns})"  # noqa: S608 - names from the model, rows as one param
            f" SELECT {values} FROM jsonb_to_recordset(%s::jsonb) AS v({record_type(fields)}){returning}"
        )
        params = [json_rows(objects, fields, adding=True)]  # a value JSON cannot carry raises TypeError
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(objects))}{returning}"  # noqa: S608
        params = flat_params(objects, fields, adding=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, value in zip(objects, ids, strict=True):
        setattr(obj, pk.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias
