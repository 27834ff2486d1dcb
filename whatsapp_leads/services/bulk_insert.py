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
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from .bulk import dumps_rows, record_type


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
        params = [_json_rows(objects, fields)]  # a value JSON cannot carry raises TypeError
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(objects))}{returning}"  # noqa: S608
        params = _values(objects, fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, value in zip(objects, ids, strict=True):
        setattr(obj, pk.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias


def _json_rows(objects: Sequence[models.Model], fields: Sequence[models.Field]) -> str:
    """``bulk.json_rows(..., adding=True)``, with the connection looked up once instead of per value.

    (``django.db.connection`` is a proxy reaching a thread-local on every attribute: a third of
    the cost of preparing a run's rows.) ``pre_save`` is asked only of fields that stamp a value.
    """
    real = connections[DEFAULT_DB_ALIAS]
    plan = [
        (
            str(f.column),
            f.attname,
            f,
            bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)),
            _kind(f),
        )
        for f in fields
    ]
    records = []
    for obj in objects:
        record: dict[str, Any] = {}
        for column, attname, field, stamps, kind in plan:
            value = field.pre_save(obj, True) if stamps else getattr(obj, attname)
            keep = (
                kind == _RAW
                or (value is None and kind != _PREP)
                or (kind == _AS_IS and type(value) in _PLAIN)
                or (kind == _WHEN and type(value) is datetime and value.tzinfo is not None)
            )  # an aware datetime goes as it is: JSON carries it as ISO 8601 (``dumps_rows``)
            record[column] = value if keep else field.get_db_prep_save(value, real)
        records.append(record)
    return dumps_rows(records)


def _values(objects: Sequence[models.Model], fields: Sequence[models.Field]) -> list[Any]:
    """The flat parameters of a multi-row ``VALUES`` (SQLite): plain values as they are, the rest prepared."""
    real = connections[DEFAULT_DB_ALIAS]
    plan = [
        (f.attname, f, bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)), _kind(f))
        for f in fields
    ]
    params: list[Any] = []
    for obj in objects:
        for attname, field, stamps, kind in plan:
            value = field.pre_save(obj, True) if stamps else getattr(obj, attname)
            keep = (value is None and kind in (_AS_IS, _WHEN)) or (kind == _AS_IS and type(value) in _PLAIN)
            params.append(value if keep else field.get_db_prep_save(value, real))
    return params


# Field classes whose database value is the Python value itself when that is a str, int or bool
# (their ``get_prep_value`` is ``to_python``: ``str()``, ``int()``, ``bool()``); exact classes only.
_SIMPLE: frozenset[type[models.Field]] = frozenset(
    {
        models.CharField,
        models.TextField,
        models.EmailField,
        models.URLField,
        models.SlugField,
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.PositiveBigIntegerField,
        models.BooleanField,
    }
)
_KEYS: frozenset[type[models.Field]] = frozenset(
    {models.AutoField, models.BigAutoField, models.SmallAutoField}
)
_PLAIN = (str, int, bool)


_RAW, _AS_IS, _WHEN, _PREP = range(4)


def _kind(field: models.Field) -> int:
    """How a value of ``field`` becomes its database value: JSON as it is (``_RAW``), str/int/bool
    and None unchanged (``_AS_IS``), an aware datetime or None unchanged (``_WHEN``), else by
    ``get_db_prep_save`` (``_PREP``)."""
    if isinstance(field, models.JSONField):
        return _RAW
    if type(field) in _SIMPLE:
        return _AS_IS
    if type(field) is models.ForeignKey:
        target = field.target_field
        return _AS_IS if type(target) in _KEYS or type(target) in _SIMPLE else _PREP
    return _WHEN if type(field) is models.DateTimeField else _PREP
