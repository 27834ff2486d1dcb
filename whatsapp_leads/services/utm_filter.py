"""Leads by one of their UTM values (``Lead.utm``), and the values present, as index-friendly queries.

The filter compares the text of one key (``utm ->> 'utm_source'`` on PostgreSQL, ``json_extract``
on SQLite), the same expression the lead table's indexes ``wl_lead_utm_source`` and
``wl_lead_utm_campaign`` are built on, so a filter is an index lookup rather than a scan of every
lead's JSON. Callers pass a queryset already narrowed to the leads the user may see: the values
offered and the rows found never reach beyond it.
"""

from __future__ import annotations

from django.db.models import ExpressionWrapper, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform

from ..models import Lead

#: Keys with an index of their own (migration 0009); others can be filtered, without one.
INDEXED_KEYS = ("utm_source", "utm_campaign")
ALIAS = "_utm_value"
MAX_VALUES = 100


def utm_text(key: str) -> ExpressionWrapper:
    """The text of ``utm[key]``, compared as plain text.

    The wrapper compiles to exactly the indexed expression but takes text lookups: a bare
    ``KeyTextTransform`` would take the JSON key lookups, which on SQLite compare with
    ``JSON_EXTRACT(<value>, '$')`` and fail on any value that is not itself JSON.
    """
    return ExpressionWrapper(KeyTextTransform(key, "utm"), output_field=TextField())


def filter_by(leads: QuerySet[Lead], key: str, value: str) -> QuerySet[Lead]:
    """The leads whose ``utm[key]`` is exactly ``value``."""
    return leads.alias(**{ALIAS: utm_text(key)}).filter(**{ALIAS: value})


def values_present(leads: QuerySet[Lead], key: str, *, limit: int = MAX_VALUES) -> list[str]:
    """The distinct non-empty values of ``utm[key]`` among ``leads``, sorted, at most ``limit``."""
    found = (
        leads.order_by()
        .annotate(**{ALIAS: utm_text(key)})
        .filter(**{f"{ALIAS}__isnull": False})
        .exclude(**{ALIAS: ""})
        .values_list(ALIAS, flat=True)
        .distinct()
        .order_by(ALIAS)[:limit]
    )
    return [str(value) for value in found]
