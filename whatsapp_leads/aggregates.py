"""Query expressions shared by the admin and the API."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Aggregate, Count, FloatField, IntegerField, Model, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_of(model: type[Model], *, fk: str, **filters: Any) -> Coalesce:
    """COUNT of ``model`` rows whose ``fk`` is the outer row, as a correlated subquery (0 when none).

    Two ``Count()`` joins on one queryset multiply each other's rows (members x leads); a
    subquery per column counts each relation on its own and still costs one query per page.
    """
    rows = (
        model._default_manager.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class PercentileCont(Aggregate):
    """The ``fraction`` percentile of a column, interpolated like PostgreSQL's ``percentile_cont``.

    One aggregate in the same ``SELECT`` as the counts, so a median and a 90th percentile cost no
    query of their own, whatever the number of rows: PostgreSQL sorts inside the aggregate
    (``PERCENTILE_CONT(f) WITHIN GROUP (ORDER BY col)``). SQLite has no such function; there the
    same interpolation runs as a Python aggregate registered on the connection (``WL_PERCENTILE_CONT``),
    still one query, so tests on SQLite check the same figures. NULLs are left out; no row gives NULL.
    """

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    allow_distinct = False
    template = "PERCENTILE_CONT(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"a percentile's fraction is between 0 and 1, not {fraction}")
        super().__init__(expression, fraction=repr(fraction), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        connection.ensure_connection()
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, _SqlitePercentile)
        return self.as_sql(
            compiler,
            connection,
            template=f"{SQLITE_PERCENTILE}(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


SQLITE_PERCENTILE = "WL_PERCENTILE_CONT"


def interpolated_percentile(values: list[float], fraction: float) -> float | None:
    """``percentile_cont``'s definition: the value at position ``fraction * (n - 1)`` of the sorted
    values, linearly interpolated between its two neighbours; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SqlitePercentile:
    """SQLite's side of ``PercentileCont`` (the ``create_aggregate`` protocol)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: Any, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return interpolated_percentile(self.values, self.fraction)
