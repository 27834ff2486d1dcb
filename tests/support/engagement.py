"""Conversations as they happen, at chosen moments: the person writes (a real webhook, processed),
a rep answers, the campaign greets, the WhatsApp Business app echoes. For engagement and SLA tests."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from tests.support.delivery import deliver
from whatsapp_leads.models import Lead, Message
from whatsapp_leads.parsing import Business
from whatsapp_leads.providers.meta.simulation import (
    DISPLAY_NUMBER,
    PHONE_NUMBER_ID,
    contact,
    envelope,
    inbound,
)
from whatsapp_leads.services.conversations import record_outbound

BUSINESS = Business(provider="meta", phone_number_id=PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER)
_ids = itertools.count(1)


def writes(wa_id: str, at: datetime, *, text: str = "Hi", ad_id: str | None = None) -> Lead:
    """The person's message at ``at``, delivered as a webhook and processed; returns their lead."""
    deliver(inbound(wa_id=wa_id, text=text, timestamp=int(at.timestamp()), ad_id=ad_id,
                    message_id=f"wamid.in{next(_ids):06d}"))  # fmt: skip
    return Lead.objects.get(wa_id=wa_id)


def we_send(lead: Lead, at: datetime, *, origin: str = "rep", text: str = "Hello!") -> Message:
    """Our message at ``at`` (a rep's answer, a greeting, an API send), stored as a sent message is."""
    return record_outbound(lead, wamid=f"wamid.out{next(_ids):06d}", text=text, business=BUSINESS,
                           timestamp=at, origin=origin)  # fmt: skip


def echo(wa_id: str, at: datetime, *, text: str = "Typed on the phone") -> None:
    """What someone typed in the WhatsApp Business app at ``at``, as Meta's echo webhook."""
    message: dict[str, Any] = {"from": DISPLAY_NUMBER, "to": wa_id, "id": f"wamid.echo{next(_ids):06d}",
                               "timestamp": str(int(at.timestamp())), "type": "text", "text": {"body": text}}  # fmt: skip
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
             "contacts": [contact(wa_id=wa_id, name="Sheena")], "message_echoes": [message]}  # fmt: skip
    deliver(envelope(value, field="smb_message_echoes"))
