"""Query parameters of the lead list: filters, search and ordering.

Parameters are validated like a request body (a DRF serializer), so ``?campaign=abc`` or a date
that is no date answers 400 with the parameter's name instead of quietly listing every lead.
The filters only narrow the rows the user may see (``whatsapp_leads.permissions``); none of them
can widen it, so ``?owner=<someone else>`` gives a rep an empty page, not another rep's leads.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.request import Request

from ..models import Lead
from ..services.routing.hours import business_time_zone

ME = "me"
NOBODY = "none"
_M = TypeVar("_M", bound=Model)
_R = TypeVar("_R")
DATE_HELP = "Use an ISO date (2025-06-30) or date-time (2025-06-30T18:00:00Z; write + as %2B)."


class DateOrDateTimeField(serializers.Field):
    """An ISO date (a whole business day) or an ISO date-time (that instant).

    A date is read in the business's time zone, the one campaign numbers count days in, so
    ``created_after=2025-06-01`` means the same day in the API as on the Numbers page.
    """

    default_error_messages = {"invalid": DATE_HELP}

    def to_internal_value(self, data: Any) -> date | datetime:
        text = str(data).strip()
        try:
            moment = parse_datetime(text) if "T" in text or " " in text else None
            day = None if moment else parse_date(text)
        except ValueError:
            moment = day = None
        if moment is not None:
            return moment if timezone.is_aware(moment) else timezone.make_aware(moment, business_time_zone())
        if day is not None:
            return day
        self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return value.isoformat()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=business_time_zone())


class LeadQueryParams(serializers.Serializer):
    """The lead list's filters; every one optional, all of them combined with AND."""

    status = serializers.CharField(
        required=False, help_text="A status, or several separated by commas: new,contacted,qualified."
    )
    campaign = serializers.IntegerField(required=False, min_value=1, help_text="A campaign id.")
    owner = serializers.CharField(
        required=False, help_text="A user id, 'me' for your own leads or 'none' for unassigned ones."
    )
    created_after = DateOrDateTimeField(required=False, help_text="Created on or after. " + DATE_HELP)
    created_before = DateOrDateTimeField(required=False, help_text="Created on or before. " + DATE_HELP)

    def validate_status(self, value: str) -> list[str]:
        wanted = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in wanted if part not in Lead.Status.values]
        if unknown or not wanted:
            raise serializers.ValidationError(f"Choose from {', '.join(Lead.Status.values)}.")
        return wanted

    def validate_owner(self, value: str) -> str | int:
        value = value.strip().lower()
        if value in (ME, NOBODY):
            return value
        if value.isdigit():
            return int(value)
        raise serializers.ValidationError("A user id, 'me' or 'none'.")


def lead_filter(params: dict[str, Any], *, user: Any) -> Q:
    """The WHERE clause for validated ``LeadQueryParams``."""
    where = Q()
    if "status" in params:
        where &= Q(status__in=params["status"])
    if "campaign" in params:
        where &= Q(campaign_id=params["campaign"])
    owner = params.get("owner")
    if owner == ME:
        where &= Q(owner_id=user.pk)
    elif owner == NOBODY:
        where &= Q(owner__isnull=True)
    elif owner is not None:
        where &= Q(owner_id=owner)
    after, before = params.get("created_after"), params.get("created_before")
    if isinstance(after, datetime):
        where &= Q(created_at__gte=after)
    elif after is not None:
        where &= Q(created_at__gte=day_start(after))
    if isinstance(before, datetime):
        where &= Q(created_at__lte=before)
    elif before is not None:
        where &= Q(created_at__lt=day_start(before + timedelta(days=1)))
    return where


class LeadFilterBackend(BaseFilterBackend):
    """Applies ``LeadQueryParams``; a bad parameter is a 400 naming it."""

    def filter_queryset(self, request: Request, queryset: QuerySet[_M, _R], view: Any) -> QuerySet[_M, _R]:
        params = LeadQueryParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        return queryset.filter(lead_filter(params.validated_data, user=request.user))


class NullsLastOrdering(OrderingFilter):
    """DRF's ``?ordering=`` with leads that never wrote (no ``last_message_at``) always at the end.

    PostgreSQL and SQLite disagree on where NULLs sort; saying it keeps both databases and both
    directions alike. The primary key breaks ties, so pages never repeat or skip a lead.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view) or ["-created_at"]
        terms = [
            F(term[1:]).desc(nulls_last=True) if term.startswith("-") else F(term).asc(nulls_last=True)
            for term in ordering
        ]
        tie = "-pk" if ordering[0].startswith("-") else "pk"
        return queryset.order_by(*terms, tie)
