"""Query expressions shared by the admin and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, Model, OuterRef, Subquery
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
