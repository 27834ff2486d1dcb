"""Echoes of messages sent from the WhatsApp Business app become outbound messages of the thread.

Stored once (the wamid is unique, so a redelivered echo is a no-op), as ``sent``, with origin
``echo``: the transcript is whole, and nothing is ever sent for them. They do not open or extend
the 24-hour window (only the user's messages do). An echo to someone we have no lead for stays an
account event, as before, rather than inventing a lead.
"""

from __future__ import annotations

from ...models import AccountEvent, Message, WebhookEvent
from ...parsing import AccountNotice, OutboundEcho
from ..account import record_notice
from ..conversations import record_outbound
from ..leads import find_lead

ORIGIN = "echo"


def record_echo(echo: OutboundEcho, *, event: WebhookEvent | None = None) -> Message | AccountEvent:
    lead = find_lead(echo.contact) if echo.contact.identified else None
    if lead is None:
        who = echo.contact.wa_id or echo.contact.user_id or "an unidentified user"
        notice = AccountNotice(
            business=echo.business, field="smb_message_echoes", event=echo.type[:64],
            summary=f"Sent from the WhatsApp Business app to {who}, who has no lead", occurred_at=echo.timestamp,
            raw=echo.raw,
        )  # fmt: skip
        return record_notice(notice, event=event)
    message = record_outbound(
        lead,
        wamid=echo.wamid,
        text=echo.text,
        business=echo.business,
        timestamp=echo.timestamp,
        type=echo.type[:32],
        origin=ORIGIN,
    )
    if not message.send_state and (message.origin != ORIGIN or not message.payload):  # not yet filled in
        Message.objects.filter(pk=message.pk).update(
            origin=ORIGIN, payload=echo.raw, webhook_event=event,
            status=Message.Status.SENT if message.status == Message.Status.PENDING else message.status,
        )  # fmt: skip
        message.refresh_from_db()
    return message
