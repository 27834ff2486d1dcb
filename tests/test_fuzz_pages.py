"""Hostile but signed bodies, end to end: through the view, the worker's processing and the pages.

Hypothesis mutates the real-shaped fixtures with what the fault-injection run found dangerous:
lone surrogates and NUL (as JSON escapes), nesting deeper than Python recurses, huge strings,
values of the wrong type, and now and then a body over the size limit. For every body: the view
answers 200 or 413; a stored event ends processed or failed with a reason; its admin page renders,
and so does the page of every lead it touched.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import APP_SECRET
from tests.support.factories import UserFactory
from tests.test_fuzz_payloads import FIXTURES, parent_of, paths
from whatsapp_leads.conf import app_settings
from whatsapp_leads.models import Lead, Message, WebhookEvent
from whatsapp_leads.providers.meta.signature import sign
from whatsapp_leads.services.processing import process_event

SURROGATES = ["\ud800", "\udfff", "\udbff\u0041", "a\ud83d", "\x00", "\x00\ud800"]


NEST = re.compile(rb'"__NEST(\d+)__"')


def nested(depth: int) -> bytes:
    """JSON nested ``depth`` levels, alternating lists and objects, written as bytes.

    Built as text rather than as a Python value, so depths past the recursion limit (which a
    forger can send) never make the strategy itself recurse.
    """
    opening = b"".join(b"[" if level % 2 else b'{"n":' for level in range(depth))
    closing = b"".join(b"]" if level % 2 else b"}" for level in reversed(range(depth)))
    return opening + b'"bottom"' + closing


hostile = st.one_of(
    st.sampled_from(SURROGATES).map(lambda s: ("append", s)),
    st.integers(min_value=50, max_value=20_000).map(lambda d: ("replace", f"__NEST{d}__")),
    st.integers(min_value=10_000, max_value=200_000).map(lambda n: ("replace", "x" * n)),
    st.sampled_from([None, True, 0, -1, 1.5, [], {}, [None], {"": None}, "", "1e309"]).map(
        lambda v: ("replace", v)
    ),
)


@st.composite
def hostile_bodies(draw) -> bytes:
    doc = copy.deepcopy(FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from([p for p in paths(doc) if p]))
        parent, key = parent_of(doc, path), path[-1]
        op, value = draw(hostile)
        if op == "append" and isinstance(parent[key], str):
            parent[key] = parent[key] + value
        else:
            parent[key] = copy.deepcopy(value)  # sampled constants are shared between examples
    body = NEST.sub(lambda m: nested(int(m.group(1))), json.dumps(doc, ensure_ascii=True).encode())
    if draw(st.integers(min_value=0, max_value=40)) == 0:
        body += b" " * (app_settings.MAX_BODY_BYTES + 1 - len(body))
    return body


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(body=hostile_bodies())
def test_any_signed_body_is_answered_finished_and_every_page_it_touches_renders(client, body):
    admin = UserFactory(
        username=f"fuzz-admin-{len(body)}-{hash(body) % 10**8}", is_superuser=True, is_staff=True
    )
    response = client.generic(
        "POST",
        reverse("whatsapp_leads:webhook"),
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body, APP_SECRET),
    )
    assert response.status_code in (200, 413)
    if response.status_code == 413:
        assert len(body) > app_settings.MAX_BODY_BYTES
        return
    event = WebhookEvent.objects.latest("pk")
    process_event(event.pk)
    event.refresh_from_db()
    assert event.status in ("processed", "failed")
    if event.status == "failed":
        assert event.error.strip()

    client.force_login(admin)
    page = client.get(reverse("admin:whatsapp_leads_webhookevent_change", args=[event.pk]))
    assert page.status_code == 200
    leads = Lead.objects.filter(
        pk__in=Message.objects.filter(webhook_event=event).values("conversation__lead")
    )
    for lead in leads:
        assert client.get(reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])).status_code == 200
    client.logout()
