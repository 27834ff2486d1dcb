"""Delivering a webhook body the way production does: stored as the view stores it, then processed
by the task's body (``process_event``), without a broker in between."""

from __future__ import annotations

from typing import Any

from tests.support.factories import WebhookEventFactory
from whatsapp_leads.models import WebhookEvent
from whatsapp_leads.providers.meta.simulation import dumps
from whatsapp_leads.services.processing import process_event


def process(payload: dict[str, Any] | bytes) -> WebhookEvent:
    """Store the body as the view would and run the worker's processing on it."""
    body = payload if isinstance(payload, bytes) else dumps(payload)
    event = WebhookEventFactory(body=body)
    process_event(event.pk)
    event.refresh_from_db()
    return event


def deliver(payload: dict[str, Any] | bytes) -> WebhookEvent:
    """``process``, asserting the event ended processed (its error is the failure message)."""
    event = process(payload)
    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    return event
