"""The REST API for host CRM developers: leads (read, and a few fields to change) and campaigns (read).

Authentication is the host's (``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``): the app sets
none of its own, so a CRM that already speaks tokens, sessions or OAuth to its staff keeps doing
so. Permissions are the app's, because who may see which lead is part of the product
(``api.permissions``). Pagination is set here too, so every host gets the same page shape.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from ..models import Campaign, Lead, MessageTemplate
from ..permissions import visible_leads
from ..services.campaign_stats import campaign_numbers
from ..services.outbound import templates as outbound_templates
from ..services.routing.hours import business_time_zone
from . import queries, sending
from .filters import LeadFilterBackend, NullsLastOrdering
from .permissions import ModelPermissions, check_may_reassign
from .serializers import (
    CampaignSerializer,
    LeadAssignmentSerializer,
    LeadDetailSerializer,
    LeadSerializer,
    LeadUpdateSerializer,
    MessageSerializer,
    NumbersQuerySerializer,
    numbers_data,
)


class Pagination(PageNumberPagination):
    """50 rows a page; ``?page_size=`` up to 200, so one request never loads a whole table."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class LeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Leads the user may see; PATCH changes name, status and (managers) owner."""

    permission_classes = (ModelPermissions,)
    pagination_class = Pagination
    filter_backends = (LeadFilterBackend, SearchFilter, NullsLastOrdering)
    search_fields = ("phone", "name", "wa_id", "user_id")
    ordering_fields = ("created_at", "last_message_at")
    ordering = ("-created_at",)
    # PATCH only: a PUT would have to send back every WhatsApp-given field it may not change.
    http_method_names = ("get", "post", "patch", "head", "options")
    serializer_classes = {
        "list": LeadSerializer,
        "partial_update": LeadUpdateSerializer,
        "messages": MessageSerializer,
        "assignments": LeadAssignmentSerializer,
    }

    def get_permissions(self) -> list[Any]:
        if self.action == "messages" and self.request.method == "POST":
            return [sending.MaySend()]  # sending: change_lead; the row rule still applies below
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Lead]:
        if self.action in ("messages", "assignments"):
            return visible_leads(self.request.user)  # only to find the lead; its rows come next
        return queries.leads_for(self.request.user)

    def get_serializer_class(self) -> type[BaseSerializer]:
        return self.serializer_classes.get(self.action, LeadDetailSerializer)

    def filter_queryset(self, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        # Filters, search and ordering shape the list; a lead asked for by id is found by id alone.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()  # first: another rep's lead is a 404 whatever the body says
        if "owner" in request.data:
            check_may_reassign(request.user)
        serializer = self.get_serializer(lead, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        fresh = queries.leads_for(request.user).get(pk=lead.pk)
        return Response(LeadDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        """GET: the lead's transcript across our numbers, oldest first, paginated.
        POST: send ``{"text": ...}`` or ``{"template": {...}}`` (202, or 409 when a rule refuses)."""
        if request.method == "POST":
            return sending.send(request, self.get_object())
        page = self.paginate_queryset(queries.transcript(self.get_object()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @action(detail=True, methods=["get"])
    def assignments(self, request: Request, pk: str | None = None) -> Response:
        """Who had the lead, newest first: automatic routing and re-assignments alike."""
        page = self.paginate_queryset(queries.assignments(self.get_object()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TemplateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Approved message templates only: the ones a send may use."""

    permission_classes = (sending.MayListTemplates,)
    pagination_class = Pagination
    serializer_class = sending.TemplateSerializer

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        return outbound_templates.approved()


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    """Campaigns with their member counts, and each campaign's numbers."""

    permission_classes = (ModelPermissions,)
    pagination_class = Pagination
    serializer_class = CampaignSerializer
    filter_backends = (SearchFilter,)
    search_fields = ("name", "meta_id")

    def get_queryset(self) -> QuerySet[Campaign]:
        return queries.campaigns()

    @action(detail=True, methods=["get"])
    def numbers(self, request: Request, pk: str | None = None) -> Response:
        """Leads per day (``?days=``, default 30), by status and per rep, and conversion (won / all)."""
        campaign = self.get_object()
        query = NumbersQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = query.validated_data["days"]
        numbers = campaign_numbers(campaign, days=days, now=timezone.now())
        return Response(numbers_data(numbers, days=days, time_zone=str(business_time_zone())))
