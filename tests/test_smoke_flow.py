"""A first end-to-end check through the view and the task, eagerly (no broker)."""

import pytest

from whatsapp_leads.models import Lead, Message, WebhookEvent
from whatsapp_leads.services.processing import process_event
from whatsapp_leads.simulation import inbound


@pytest.mark.django_db
def test_signed_ad_click_becomes_lead(post_webhook, settings):
    response = post_webhook(inbound(ad_id="120226305854810726", name="Asha"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "pending"
    assert process_event(event.pk).status == "processed"
    lead = Lead.objects.get()
    assert lead.phone == "+919876543210"
    assert lead.source_ad_id == "120226305854810726"
    assert Message.objects.count() == 1
