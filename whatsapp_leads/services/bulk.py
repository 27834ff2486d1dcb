"""One ``UPDATE ... FROM (VALUES ...)`` for many rows, each with its own values.

Django's ``bulk_update`` writes the same statement as a ``CASE WHEN`` per column per row, and
builds it through the expression machinery: for a batch of a hundred statuses that compiling
cost more than the database's work. This writes the values list directly, typed by the fields
themselves (``get_db_prep_save``, and a cast to the column type on PostgreSQL).

On PostgreSQL the rows go as one JSON parameter read by ``jsonb_to_recordset``, typed by the
record definition: one parameter instead of one per value, because the driver's client-side
binding (quoting and splicing every parameter into the statement) cost more than the UPDATE.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

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
    if postgres:
        try:
            rows = json_rows(objects, [pk, *fields])
        except TypeError:  # a value JSON cannot carry (bytes): the VALUES list below
            pass
        else:
            assignments = ", ".join(f"{quote(str(f.column))} = v.{quote(str(f.column))}" for f in fields)
            sql = (
                f"UPDATE {table} SET {assignments}"  # noqa: S608 - names from the model, values as one param
                f" FROM jsonb_to_recordset(%s::jsonb) AS v({record_type([pk, *fields])})"
                f" WHERE {table}.{quote(str(pk.column))} = v.{quote(str(pk.column))}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [rows])
                return cursor.rowcount
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


def _plain(value: Any) -> Any:
    """A database value as JSON that PostgreSQL reads back as the same value of its column type."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot go in a JSON row")


def json_rows(
    objects: Iterable[models.Model], fields: Sequence[models.Field], *, adding: bool = False
) -> str:
    """The objects' ``fields`` as one JSON array of records keyed by column (``record_type`` reads it).

    ``adding``: the values an INSERT would write (``pre_save``, so ``auto_now_add`` is stamped).
    JSON fields go as their JSON; every other value as ``get_db_prep_save`` makes it.
    """
    real = connections[DEFAULT_DB_ALIAS]  # the proxy ``connection`` reaches a thread-local per use
    plan = [(f, str(f.column), f.attname, adding and _stamps(f), _prep_kind(f)) for f in fields]
    records = []
    for obj in objects:
        record: dict[str, Any] = {}
        for field, column, attname, stamps, kind in plan:
            value = _value(obj, field, attname, stamps) if stamps else getattr(obj, attname)
            if kind == "json":
                pass
            elif kind == "aware":
                if value is not None and (type(value) is not datetime.datetime or value.tzinfo is None):
                    value = field.get_db_prep_save(value, real)
            elif kind == "prep" or type(value) not in kind:
                value = field.get_db_prep_save(value, real)
            record[column] = value
        records.append(record)
    return dumps_rows(records)


def flat_params(
    objects: Iterable[models.Model], fields: Sequence[models.Field], *, adding: bool = False
) -> list[Any]:
    """The objects' ``fields`` as the flat parameters of a multi-row ``VALUES`` (SQLite).

    Values ``get_db_prep_save`` would hand back unchanged go as they are; JSON and datetimes,
    which SQLite stores as text, are always prepared.
    """
    real = connections[DEFAULT_DB_ALIAS]
    plan = [(f, f.attname, adding and _stamps(f), _prep_kind(f)) for f in fields]
    params: list[Any] = []
    for obj in objects:
        for field, attname, stamps, kind in plan:
            value = _value(obj, field, attname, stamps) if stamps else getattr(obj, attname)
            plain = value is None if kind == "aware" else type(kind) is tuple and type(value) in kind
            params.append(value if plain else field.get_db_prep_save(value, real))
    return params


def _stamps(field: models.Field) -> bool:
    """Whether an INSERT's value of ``field`` comes from ``pre_save`` rather than the attribute.

    ``auto_now``/``auto_now_add`` stamp it; any other field class overriding ``pre_save`` (a
    file field committing its file) is asked too, but for a file field holding a plain name
    (``_value``). A plain date/time field is only read.
    """
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return True
    return type(field).pre_save is not models.Field.pre_save and not isinstance(field, models.DateField)


def _value(obj: models.Model, field: models.Field, attname: str, stamps: bool) -> Any:
    """The value an INSERT of ``obj`` writes for ``field`` (before ``get_db_prep_save``).

    A file field whose attribute is still the stored name (a ``str``: no file was assigned) has
    nothing to commit, and writes that name: ``pre_save`` would only wrap it in a ``FieldFile``
    first: a third of preparing a batch of new messages' rows (profiled).
    """
    if not stamps:
        return getattr(obj, attname)
    if type(field) is models.FileField:
        name = obj.__dict__.get(attname)
        if type(name) is str:
            return name
    return field.pre_save(obj, True)


# Values ``get_db_prep_save`` hands back unchanged, by field class (exact classes only): a text
# field's str, an int, a bool, None (and, see ``_prep_kind``, an aware datetime on PostgreSQL).
# Skipping the call for them was most of the cost of writing a batch of statuses' messages, and
# half of a run of new leads.
_TEXT = (str, type(None))
_NUMBER = (int, type(None))
_UNCHANGED: dict[type[models.Field], tuple[type, ...]] = {
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.EmailField: _TEXT,
    models.URLField: _TEXT,
    models.SlugField: _TEXT,
    models.IntegerField: _NUMBER,
    models.BigIntegerField: _NUMBER,
    models.SmallIntegerField: _NUMBER,
    models.PositiveIntegerField: _NUMBER,
    models.PositiveSmallIntegerField: _NUMBER,
    models.PositiveBigIntegerField: _NUMBER,
    models.BooleanField: (bool, type(None)),
    models.AutoField: (int,),
    models.BigAutoField: (int,),
    models.SmallAutoField: (int,),
}


def _prep_kind(field: models.Field) -> str | tuple[type, ...]:
    """How a value of ``field`` is written: "json" (its JSON value as it is, in a JSON row), "aware"
    (None or an aware datetime as it is, in a JSON row), "prep" (``get_db_prep_save``), or the
    types written as they are. A foreign key writes as its target field does."""
    if isinstance(field, models.JSONField):
        return "json"
    if type(field) is models.DateTimeField:
        return "aware"
    if type(field) is models.ForeignKey:
        target = _UNCHANGED.get(type(field.target_field))
        return (*target, type(None)) if target else "prep"
    return _UNCHANGED.get(type(field), "prep")


def dumps_rows(records: list[dict[str, Any]]) -> str:
    """Records keyed by column as the one JSON parameter ``jsonb_to_recordset`` reads (``record_type``)."""
    return json.dumps(records, default=_plain, ensure_ascii=False, separators=(",", ":"))


def record_type(fields: Sequence[models.Field]) -> str:
    """``column type, ...``: the record definition ``jsonb_to_recordset`` reads ``json_rows`` with."""
    return _record_type(connection.alias, connection.vendor, tuple(fields))


@functools.lru_cache(maxsize=256)
def _record_type(alias: str, vendor: str, fields: tuple[models.Field, ...]) -> str:
    """Worked out once per column list: ``db_type`` for the forty-odd columns of a new lead's rows
    was 3 % of a set-based run of new leads (profiled)."""
    real = connections[alias]
    quote = real.ops.quote_name
    return ", ".join(f"{quote(str(field.column))} {field.db_type(real)}" for field in fields)
