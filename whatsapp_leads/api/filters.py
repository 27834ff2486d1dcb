"""Query parameters of the lead list: filters and ordering, as a django-filter ``FilterSet``.

Parameters are validated by form fields, so ``?campaign=abc``, a date that is no date or
``?ordering=bogus`` answers 400 with the parameter's name (``DjangoFilterBackend`` turns the form's
errors into DRF's ``ValidationError``) instead of quietly listing every lead.
The filters only narrow the rows the user may see (``whatsapp_leads.permissions``); none of them
can widen it, so ``?owner=<someone else>`` gives a rep an empty page, not another rep's leads.
Each filter carries its OpenAPI schema (``extend_schema_field``), so the published schema says
exactly what the form accepts.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import django_filters
from django import forms
from django.db.models import F, Model, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.request import Request

from ..models import Lead
from ..services import lead_search, utm_filter
from ..services.routing.hours import business_time_zone

ME = "me"
NOBODY = "none"
_M = TypeVar("_M", bound=Model)
_R = TypeVar("_R")
DATE_HELP = "Use an ISO date (2025-06-30) or date-time (2025-06-30T18:00:00Z; write + as %2B)."
USER_ID = re.compile(r"[0-9]+")  # ASCII digits: str.isdigit() also takes '²', which int() refuses
# The largest id a 64-bit key column holds: a bigger one is a 400, never an overflow in the driver.
MAX_ID = 2**63 - 1
NO_NUL = "^[^\\u0000]*$"  # an OpenAPI (ECMA-262) pattern: text without a NUL character
ORDERING_FIELDS = ("created_at", "last_message_at")
DEFAULT_ORDERING = ("-created_at",)


# --- form fields: one parameter's parsing and its 400 message -----------------------------------


class StatusListField(forms.CharField):
    """``new`` or ``new,contacted``: one status or several, separated by commas."""

    def clean(self, value: Any) -> list[str] | None:
        text = super().clean(value)
        if not text:
            return None
        wanted = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [part for part in wanted if part not in Lead.Status.values]
        if unknown or not wanted:
            raise forms.ValidationError(f"Choose from {', '.join(Lead.Status.values)}.", code="invalid")
        return wanted


class OwnerField(forms.CharField):
    """A user id, ``me`` or ``none`` (any case, surrounding spaces ignored)."""

    def clean(self, value: Any) -> str | int | None:
        text = (super().clean(value) or "").strip().lower()
        if not text:
            return None
        if text in (ME, NOBODY):
            return text
        if USER_ID.fullmatch(text) and len(text) <= len(str(MAX_ID)) and int(text) <= MAX_ID:
            return int(text)
        raise forms.ValidationError("A user id, 'me' or 'none'.", code="invalid")


class DateOrDateTimeField(forms.CharField):
    """An ISO date (a whole business day) or an ISO date-time (that instant).

    A date is read in the business's time zone, the one campaign numbers count days in, so
    ``created_after=2025-06-01`` means the same day in the API as on the Numbers page.
    """

    def clean(self, value: Any) -> date | datetime | None:
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        try:
            moment = parse_datetime(text) if "T" in text or " " in text else None
            day = None if moment else parse_date(text)
        except ValueError:
            moment = day = None
        if moment is not None:
            return moment if timezone.is_aware(moment) else timezone.make_aware(moment, business_time_zone())
        if day is not None:
            return day
        # through params: the message's "%2B" must not be read as a format directive
        raise forms.ValidationError("%(help)s", code="invalid", params={"help": DATE_HELP})


# --- filters ------------------------------------------------------------------------------------


def _in_utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC, or None when that falls outside the years 1-9999 (no bound at all then)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def day_start(day: date) -> datetime | None:
    """Midnight of ``day`` in the business time zone, in UTC; None past the calendar's ends."""
    return _in_utc(datetime.combine(day, time.min).replace(tzinfo=business_time_zone()))


def next_day_start(day: date) -> datetime | None:
    try:
        return day_start(day + timedelta(days=1))
    except OverflowError:  # 9999-12-31 has no next day: everything is before it
        return None


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(Lead.Status.values)},
        "description": "A status, or several separated by commas: new,contacted,qualified.",
    }
)
class StatusFilter(django_filters.Filter):
    field_class = StatusListField

    def filter(self, qs: QuerySet[Lead], value: list[str] | None) -> QuerySet[Lead]:
        return qs if not value else qs.filter(status__in=value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": "A campaign id."})
class CampaignFilter(django_filters.Filter):
    field_class = forms.IntegerField


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            {"type": "string", "enum": [ME, NOBODY]},
        ],
        "description": "A user id, 'me' for your own leads or 'none' for unassigned ones.",
    }
)
class OwnerFilter(django_filters.Filter):
    field_class = OwnerField

    def filter(self, qs: QuerySet[Lead], value: str | int | None) -> QuerySet[Lead]:
        if value is None:
            return qs
        if value == ME:
            return qs.filter(owner_id=self.parent.request.user.pk)
        if value == NOBODY:
            return qs.filter(owner__isnull=True)
        return qs.filter(owner_id=int(value))


# An empty value means "no bound", as an absent one does.
DATE_SCHEMA = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "maxLength": 0},
    ]
}


@extend_schema_field({**DATE_SCHEMA, "description": "Created on or after. " + DATE_HELP})
class CreatedAfterFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def filter(self, qs: QuerySet[Lead], value: date | datetime | None) -> QuerySet[Lead]:
        if value is None:
            return qs
        bound = _in_utc(value) if isinstance(value, datetime) else day_start(value)
        return qs if bound is None else qs.filter(created_at__gte=bound)


@extend_schema_field({**DATE_SCHEMA, "description": "Created on or before. " + DATE_HELP})
class CreatedBeforeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def filter(self, qs: QuerySet[Lead], value: date | datetime | None) -> QuerySet[Lead]:
        if value is None:
            return qs
        if isinstance(value, datetime):
            bound = _in_utc(value)
            return qs if bound is None else qs.filter(created_at__lte=bound)
        bound = next_day_start(value)
        return qs if bound is None else qs.filter(created_at__lt=bound)


class NullsLastOrdering(django_filters.OrderingFilter):
    """``?ordering=`` with leads that never wrote (no ``last_message_at``) always at the end.

    PostgreSQL and SQLite disagree on where NULLs sort; saying it keeps both databases and both
    directions alike. The primary key breaks ties, so pages never repeat or skip a lead. A value
    that is not one of the choices is a 400 naming ``ordering`` (django-filter's choice field).
    FilterSet calls every filter, given a value or not, so the default order is applied here too.
    """

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        ordering = [self.get_ordering_value(term) for term in value or ()] or list(DEFAULT_ORDERING)
        return order_nulls_last(qs, ordering)


def order_nulls_last(qs: QuerySet, ordering: list[str]) -> QuerySet:
    terms = [
        F(term[1:]).desc(nulls_last=True) if term.startswith("-") else F(term).asc(nulls_last=True)
        for term in ordering
    ]
    tie = "-pk" if ordering[0].startswith("-") else "pk"
    return qs.order_by(*terms, tie)


class LeadFilterSet(django_filters.FilterSet):
    """The lead list's filters; every one optional, all of them combined with AND."""

    status = StatusFilter()
    campaign = CampaignFilter(field_name="campaign_id", min_value=1, max_value=MAX_ID)
    owner = OwnerFilter()
    created_after = CreatedAfterFilter()
    created_before = CreatedBeforeFilter()
    # ad loop: where the lead came from and where it is
    country = django_filters.CharFilter(
        method="filter_country", max_length=2, help_text="ISO 3166 country code (IN, AE); any case."
    )
    utm_source = django_filters.CharFilter(
        method="filter_utm", help_text="The ad URL's utm_source (exact, case-sensitive)."
    )
    utm_medium = django_filters.CharFilter(
        method="filter_utm", help_text="The ad URL's utm_medium (exact, case-sensitive)."
    )
    utm_campaign = django_filters.CharFilter(
        method="filter_utm", help_text="The ad URL's utm_campaign (exact, case-sensitive)."
    )
    ref = django_filters.CharFilter(
        method="filter_ref",
        max_length=40,
        help_text="Reference code of the first message ([HL-DIWALI]: HL-DIWALI).",
    )
    ordering = NullsLastOrdering(
        fields=ORDERING_FIELDS,
        help_text="created_at, -created_at (default), last_message_at or -last_message_at; "
        "leads that never wrote come last either way.",
    )

    class Meta:
        model = Lead
        fields: tuple[str, ...] = ()

    def filter_country(self, qs: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return qs.filter(country=value.strip().upper()) if value else qs

    def filter_utm(self, qs: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        """By the text of ``utm[name]``, the expression the lead table's UTM indexes are built on."""
        return utm_filter.filter_by(qs, name, value) if value else qs

    def filter_ref(self, qs: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return qs.filter(utm__ref=value.strip().strip("[]").upper()) if value else qs


class Search(SearchFilter):
    """DRF's ``?search=``, refusing a NUL character with a 400: PostgreSQL cannot compare text with one
    (the query would fail with a 500), and no name or number contains it."""

    def get_search_terms(self, request: Request) -> list[str]:
        if "\x00" in request.query_params.get(self.search_param, ""):
            raise ValidationError({self.search_param: ["Null characters are not allowed."]})
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], "pattern": NO_NUL}
        return parameters


class LeadSearch(Search):
    """``?search=`` on leads: a phone number in any format, a name, or words from the messages
    (``services.lead_search``, the admin's search too)."""

    def filter_queryset(self, request: Request, queryset: QuerySet[_M, _R], view: Any) -> QuerySet[_M, _R]:
        self.get_search_terms(request)  # refuses a NUL character with a 400
        text = request.query_params.get(self.search_param, "")
        if not text.strip():
            return queryset
        return lead_search.search_leads(queryset, text)  # type: ignore[arg-type,return-value]  # leads only
