"""The REST API for host CRM developers: leads (read, and a few fields to change) and campaigns (read).

Authentication is the host's (``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``): the app sets
none of its own, so a CRM that already speaks tokens, sessions or OAuth to its staff keeps doing
so. Permissions are the app's, because who may see which lead is part of the product
(``api.permissions``). Pagination is the app's too (``api.pagination``), so every host gets the
same page shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from ..models import Campaign, ErasureRecord, Lead, MessageTemplate
from ..permissions import can_erase_leads, visible_leads
from ..services import lead_export
from ..services.ad_numbers import ad_numbers, chart_range
from ..services.campaign_stats import campaign_numbers
from ..services.outbound import templates as outbound_templates
from ..services.privacy import AlreadyErased, erase_lead
from ..services.response_stats import campaign_response
from ..services.routing.hours import business_time_zone
from . import queries, sending
from .filters import LeadFilterSet, LeadSearch, Search
from .openapi import LeadFilterError, errors, invalid
from .pagination import Pagination
from .permissions import ModelPermissions, check_may_reassign
from .serializers import (
    CampaignNumbersSerializer,
    CampaignSerializer,
    ErasureRequestSerializer,
    ErasureSerializer,
    LeadAssignmentSerializer,
    LeadDetailSerializer,
    LeadSerializer,
    LeadUpdateSerializer,
    MessageSerializer,
    NumbersQuerySerializer,
    ad_numbers_data,
    numbers_data,
    response_data,
)

_M = TypeVar("_M", bound=Model)
_R = TypeVar("_R")
BAD_PAGE_SIZE = "A bad ?page_size=."

# StatusFilter's schema plus the comma-separated style (status=new,contacted) that drf-spectacular's
# django-filter extension gives only to BaseCSVFilter subclasses, whose parsing differs from ours.
STATUS_PARAMETER = OpenApiParameter(
    "status",
    {"type": "array", "items": {"type": "string", "enum": list(Lead.Status.values)}},
    description="A status, or several separated by commas: new,contacted,qualified.",
    style="form",
    explode=False,
)


@extend_schema_view(
    list=extend_schema(
        summary="Leads you may see, newest first",
        parameters=[STATUS_PARAMETER],
        responses={
            200: LeadSerializer(many=True),
            **errors(bad_request=OpenApiResponse(LeadFilterError, description="A malformed parameter.")),
        },
    ),
    retrieve=extend_schema(summary="One lead", responses={200: LeadDetailSerializer, **errors()}),
    destroy=extend_schema(
        summary="Erase the person's data (managers)",
        description="Removes every trace of the person (messages, files, history, statuses, raw webhook "
        "bodies) and anonymises the lead row, which stays for campaign numbers. Answers the audit record.",
        request=ErasureRequestSerializer,
        responses={
            200: ErasureSerializer,
            **errors(bad_request=invalid("A reason that is too long.", body=True)),
        },
    ),
    partial_update=extend_schema(
        summary="Change a lead's name, status or (managers) owner",
        request=LeadUpdateSerializer,
        responses={
            200: LeadDetailSerializer,
            **errors(
                bad_request=invalid("A bad value, a field the API does not change, or no JSON.", body=True)
            ),
        },
    ),
)
class LeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Leads the user may see; PATCH changes name, status and (managers) owner; DELETE (managers) erases."""

    permission_classes = (ModelPermissions,)
    pagination_class = Pagination
    filter_backends = (DjangoFilterBackend, LeadSearch)
    filterset_class = LeadFilterSet
    search_fields = ("phone", "name", "wa_id", "user_id")
    # PATCH only: a PUT would have to send back every WhatsApp-given field it may not change.
    http_method_names = ("get", "post", "patch", "delete", "head", "options")
    serializer_classes: dict[str, type[BaseSerializer]] = {
        "list": LeadSerializer,
        "partial_update": LeadUpdateSerializer,
        "messages": MessageSerializer,
        "assignments": LeadAssignmentSerializer,
        "destroy": ErasureRequestSerializer,
    }

    def get_permissions(self) -> list[Any]:
        if self.action == "messages" and self.request.method == "POST":
            return [sending.MaySend()]  # sending: change_lead; the row rule still applies below
        return list(super().get_permissions())

    def get_queryset(self) -> QuerySet[Lead]:
        if self.action in ("messages", "assignments"):
            return visible_leads(self.request.user)  # only to find the lead; its rows come next
        return queries.leads_for(self.request.user)

    def get_serializer_class(self) -> type[BaseSerializer]:
        return self.serializer_classes.get(self.action, LeadDetailSerializer)

    def filter_queryset(self, queryset: QuerySet[_M, _R]) -> QuerySet[_M, _R]:
        # Filters, search and ordering shape the list; a lead asked for by id is found by id alone.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    # --- ?format=csv on the list: every matching row, streamed (services/lead_export) ------------
    def _wants_csv(self, request: Any) -> bool:
        return self.action == "list" and request.query_params.get("format") == "csv"

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        if self._wants_csv(request):
            return (JSONRenderer(), JSONRenderer.media_type)  # errors answer JSON; rows are streamed
        return super().perform_content_negotiation(request, force)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if not self._wants_csv(request):
            return super().list(request, *args, **kwargs)
        leads = self.filter_queryset(visible_leads(request.user))  # the row rule, then the filters
        response = StreamingHttpResponse(lead_export.csv_lines(leads), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
        return response

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()  # first: another rep's lead is a 404 whatever the body says
        if isinstance(request.data, Mapping) and "owner" in request.data:
            check_may_reassign(request.user)
        serializer = self.get_serializer(lead, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        fresh = queries.leads_for(request.user).get(pk=lead.pk)
        return Response(LeadDetailSerializer(fresh, context=self.get_serializer_context()).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Erase the person (DPDP Act): not a row delete; the lead stays, anonymised, for the numbers."""
        lead = self.get_object()  # another rep's lead is a 404, as everywhere
        if not can_erase_leads(request.user):
            raise PermissionDenied("Only managers (view_all_leads and delete_lead) may erase a lead.")
        body = ErasureRequestSerializer(data=request.data if isinstance(request.data, Mapping) else {})
        body.is_valid(raise_exception=True)
        reason = body.validated_data.get("reason") or "Requested through the API"
        try:
            record = erase_lead(lead, reason, request.user, trigger=ErasureRecord.Trigger.API)
        except AlreadyErased as exc:
            raise NotFound(str(exc)) from exc
        return Response(ErasureSerializer(record).data)

    # *args/**kwargs: the router's format-suffix routes (messages.json) also pass ``format``.
    @extend_schema(
        methods=["GET"],
        summary="A lead's transcript",
        filters=False,
        responses={200: MessageSerializer(many=True), **errors(bad_request=invalid(BAD_PAGE_SIZE))},
    )
    @extend_schema(
        methods=["POST"],
        summary="Send a message to the lead",
        description="A text (inside the 24-hour window) or an approved template. 202: stored in the "
        "outbox and queued; 409: a rule refused it (window closed, opted out, template not approved, "
        "no address), with a sentence for the rep, and nothing was stored.",
        filters=False,
        request=sending.SEND_BODY,
        responses={
            202: sending.SentMessageSerializer,
            409: OpenApiResponse(sending.RefusalSerializer, description="A rule refused the send."),
            **errors(bad_request=invalid("Neither or both of text and template; a bad field.", body=True)),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """GET: the lead's transcript across our numbers, oldest first, paginated.
        POST: send ``{"text": ...}`` or ``{"template": {...}}`` (202, or 409 when a rule refuses)."""
        if request.method == "POST":
            return sending.send(request, self.get_object())
        page = self.paginate_queryset(queries.transcript(self.get_object()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="A lead's changes of owner",
        filters=False,
        responses={200: LeadAssignmentSerializer(many=True), **errors(bad_request=invalid(BAD_PAGE_SIZE))},
    )
    @action(detail=True, methods=["get"])
    def assignments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Who had the lead, newest first: automatic routing and re-assignments alike."""
        page = self.paginate_queryset(queries.assignments(self.get_object()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Approved message templates",
        responses={
            200: sending.TemplateSerializer(many=True),
            **errors(bad_request=invalid("A bad ?page_size=.")),
        },
    ),
)
class TemplateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Approved message templates only: the ones a send may use."""

    permission_classes = (sending.MayListTemplates,)
    pagination_class = Pagination
    serializer_class = sending.TemplateSerializer

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        return outbound_templates.approved()


@extend_schema_view(
    list=extend_schema(
        summary="Campaigns by name",
        responses={
            200: CampaignSerializer(many=True),
            **errors(bad_request=invalid("A bad ?search= or ?page_size=.")),
        },
    ),
    retrieve=extend_schema(summary="One campaign", responses={200: CampaignSerializer, **errors()}),
)
class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    """Campaigns with their member counts, and each campaign's numbers."""

    permission_classes = (ModelPermissions,)
    pagination_class = Pagination
    serializer_class = CampaignSerializer
    filter_backends = (Search,)
    search_fields = ("name", "meta_id")

    def get_queryset(self) -> QuerySet[Campaign]:
        return queries.campaigns()

    @extend_schema(
        summary="A campaign's numbers",
        filters=False,
        parameters=[NumbersQuerySerializer],
        responses={
            200: CampaignNumbersSerializer,
            **errors(bad_request=invalid("A bad ?days=, ?since= or ?until=.")),
        },
    )
    @action(detail=True, methods=["get"])
    def numbers(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Leads per day (``?days=``, default 30), by status and per rep, and conversion (won / all);
        spend, cost per lead, won, cost per won lead, revenue and ROAS per campaign and per ad over
        ``?since=``..``?until=`` (default: all time), with spend and leads per day; and ``response``:
        median and 90th-percentile first response times (wall-clock and business seconds) for the
        campaign and per rep, the share answered within the SLA, breaches per day and unanswered leads."""
        campaign = self.get_object()
        query = NumbersQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = query.validated_data["days"]
        since, until = query.validated_data.get("since"), query.validated_data.get("until")
        now = timezone.now()
        numbers = campaign_numbers(campaign, days=days, now=now, since=since, until=until)
        chart_since, chart_until = chart_range(since=since, until=until, days=days, now=now)
        money = ad_numbers(
            campaign, since=since, until=until, chart_since=chart_since, chart_until=chart_until
        )
        response = campaign_response(
            campaign, since=since, until=until, chart_since=chart_since, chart_until=chart_until, now=now
        )
        return Response(
            {
                **numbers_data(numbers, days=days, time_zone=str(business_time_zone())),
                **ad_numbers_data(money),
                "response": response_data(response),
            }
        )
