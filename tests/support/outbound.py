"""Sending against the fake Cloud API: a served ``FakeGraph`` the app's settings point at, and leads
whose 24-hour window is open (or closed), as a sales rep would find them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory
from tests.support.fake_graph import FakeGraph
from whatsapp_leads.models import Lead, MessageTemplate
from whatsapp_leads.providers.meta.simulation import PHONE_NUMBER_ID, WABA_ID


def point_cloud_at(settings: Any, fake: FakeGraph, **extra: Any) -> None:
    """The Cloud API settings a deployment has (token, number, WABA), aimed at the fake."""
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "META_GRAPH_URL": fake.base_url,
        "META_GRAPH_VERSION": fake.version,
        "ACCESS_TOKEN": fake.token,
        "PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "BUSINESS_ACCOUNT_ID": WABA_ID,
        "SEND_RATE_BACKEND": "database",
        "SEND_TIMEOUT_SECONDS": (2.0, 5.0),
        **extra,
    }


@pytest.fixture
def cloud(settings) -> Iterator[FakeGraph]:
    fake = FakeGraph()
    with fake.serve():
        point_cloud_at(settings, fake)
        yield fake


def lead_who_wrote(
    *, hours_ago: float = 1.0, owner: Any = None, referral: dict | None = None, **lead: Any
) -> Lead:
    """A lead whose last message came ``hours_ago`` (the window is open under 24)."""
    at = timezone.now() - timedelta(hours=hours_ago)
    row = LeadFactory(owner=owner, last_message_at=at, **lead)
    conversation = ConversationFactory(lead=row, phone_number_id=PHONE_NUMBER_ID, last_inbound_at=at,
                                       last_message_at=at, started_at=at, inbound_count=1, message_count=1)  # fmt: skip
    MessageFactory(conversation=conversation, timestamp=at, referral=referral or {})
    return row


def approved_template(
    name: str = "loan_offer",
    *,
    category: str = "UTILITY",
    language: str = "en_US",
    body: str = "Hi {{1}}, your rate is {{2}}.",
    status: str = "APPROVED",
    parameter_format: str = "POSITIONAL",
) -> MessageTemplate:
    from whatsapp_leads.services.outbound.templates import parameters_of

    components = [{"type": "BODY", "text": body}]
    return MessageTemplate.objects.create(
        waba_id=WABA_ID, template_id=f"77{MessageTemplate.objects.count():04d}", name=name, language=language,
        category=category, status=status, parameter_format=parameter_format, components=components,
        parameters=parameters_of(components),
    )  # fmt: skip
