"""Every route the API router offers answers 200, 403 or 404 (never 5xx), for every kind of caller.

The routes are enumerated from the router itself, format-suffix variants (``messages.json``) and
custom actions included, so a route added later is covered without editing this file.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from tests.support.factories import CampaignFactory, ConversationFactory, LeadFactory, MessageFactory
from tests.support.people import LEAD_PERMS, staff
from whatsapp_leads.api.urls import router
from whatsapp_leads.models import LeadAssignment

pytestmark = pytest.mark.django_db

FORMATS = ("json", "api")  # the router's suffixes: JSON and the browsable API


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    needs_pk: bool
    has_format: bool

    @property
    def lead_scoped(self) -> bool:
        return self.name.startswith("lead-") and self.needs_pk


def router_routes() -> list[Route]:
    routes = []
    for pattern in router.urls:
        assert isinstance(pattern, URLPattern)
        groups = pattern.pattern.regex.groupindex
        routes.append(Route(pattern.name or "", str(pattern.pattern), "pk" in groups, "format" in groups))
    return routes


ROUTES = router_routes()


def urls_of(route: Route, *, pk: int) -> list[str]:
    kwargs = {"pk": pk} if route.needs_pk else {}
    if not route.has_format:
        return [reverse(f"whatsapp_leads:{route.name}", kwargs=kwargs)]
    return [reverse(f"whatsapp_leads:{route.name}", kwargs={**kwargs, "format": f}) for f in FORMATS]


def test_the_enumeration_covers_every_kind_of_route_including_suffixed_actions():
    kinds = {(r.name, r.has_format) for r in ROUTES}

    for name in ("lead-list", "lead-detail", "lead-messages", "lead-assignments", "campaign-numbers"):
        assert (name, False) in kinds and (name, True) in kinds
    assert {"api-root", "campaign-list", "campaign-detail"} <= {r.name for r in ROUTES}


@pytest.fixture
def world(rep):
    """The owner's lead with a transcript and an assignment row, and a campaign."""
    campaign = CampaignFactory()
    lead = LeadFactory(owner=rep, campaign=campaign)
    MessageFactory.create_batch(2, conversation=ConversationFactory(lead=lead))
    LeadAssignment.objects.create(lead=lead, owner=rep, campaign=campaign, reason="test")
    return lead, campaign


def expected(route: Route, who: str) -> int:
    if route.name.startswith("campaign-"):
        return 200 if who == "campaign_viewer" else 403
    if route.name == "api-root":
        return 200
    if route.name == "template-list":
        return 403 if who == "campaign_viewer" else 200  # templates are for those who see leads
    if route.lead_scoped and who == "other_rep":
        return 404  # another rep's lead: the id's existence is not confirmed
    if route.name.startswith("lead-") and who == "campaign_viewer":
        return 403  # no view_lead
    return 200


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.name}{'.fmt' if r.has_format else ''}")
@pytest.mark.parametrize("who", ["owner", "other_rep", "manager", "campaign_viewer"])
def test_every_router_route_answers_its_callers_without_a_server_error(request, world, route, who):
    lead, campaign = world
    user = {
        "owner": lambda: request.getfixturevalue("rep"),
        "other_rep": lambda: request.getfixturevalue("other_rep"),
        "manager": lambda: request.getfixturevalue("manager"),
        "campaign_viewer": lambda: staff("view_campaign", username="ops"),
    }[who]()
    client = APIClient()
    client.force_login(user)
    pk = campaign.pk if route.name.startswith("campaign-") else lead.pk

    for url in urls_of(route, pk=pk):
        response = client.get(url)
        assert response.status_code == expected(route, who), (
            url,
            response.status_code,
            response.content[:300],
        )
        if url.endswith(".json") or ".json?" in url:
            assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.needs_pk], ids=lambda r: r.pattern)
def test_an_id_that_does_not_exist_is_a_404_on_every_detail_route(route):
    client = APIClient()
    client.force_login(staff(*LEAD_PERMS, "view_all_leads", "view_campaign", username="boss"))

    for pk in (987654, 2**63 + 1):  # the second is past a 64-bit id column
        for url in urls_of(route, pk=pk):
            assert client.get(url).status_code == 404, url
