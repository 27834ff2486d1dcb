"""Conversions API for business messaging: the HTTP half (build the body, POST it, read the answer).

Meta's field names stop here. ``event_body`` builds one event exactly as Meta documents it for
``action_source: "business_messaging"`` (the published sample JSON is malformed, so it is built,
not copied); ``send_events`` posts to ``/{dataset_id}/events``; ``find_dataset`` asks for the
WhatsApp Business Account's dataset. Nothing here knows about leads or the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .client import GraphClient
from .errors import GraphAPIError


@dataclass(frozen=True, slots=True, kw_only=True)
class EventResult:
    """Meta's answer to one POST: how many events it took, its trace id, and the raw body."""

    events_received: int | None
    fbtrace_id: str
    messages: list[Any]
    raw: dict[str, Any]


def event_body(
    *,
    event_name: str,
    event_time: datetime,
    event_id: str,
    ctwa_clid: str,
    waba_id: str,
    value: Decimal | None = None,
    currency: str = "",
) -> dict[str, Any]:
    """One event of ``data``: ``ctwa_clid`` is sent as is (Meta: "Do not hash")."""
    event: dict[str, Any] = {
        "event_name": event_name,
        "event_time": int(event_time.timestamp()),
        "event_id": event_id,
        "action_source": "business_messaging",
        "messaging_channel": "whatsapp",
        "user_data": {"whatsapp_business_account_id": waba_id, "ctwa_clid": ctwa_clid},
    }
    if value is not None and currency:
        # A JSON number, not a string: Meta reads custom_data.value as a number.
        event["custom_data"] = {"currency": currency.upper(), "value": float(value)}
    return event


def request_body(events: list[dict[str, Any]], *, test_event_code: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"data": events}
    if test_event_code:
        body["test_event_code"] = test_event_code  # shown in Events Manager > Test events
    return body


def send_events(
    dataset_id: str, events: list[dict[str, Any]], *, client: GraphClient, test_event_code: str = ""
) -> EventResult:
    """POST the events; a ``GraphAPIError`` for Meta's refusals and a partial acceptance alike."""
    raw = client.post(f"{dataset_id}/events", json=request_body(events, test_event_code=test_event_code))
    received, messages = raw.get("events_received"), raw.get("messages")
    result = EventResult(
        events_received=received if isinstance(received, int) else None,
        fbtrace_id=str(raw.get("fbtrace_id") or ""),
        messages=messages if isinstance(messages, list) else [],
        raw=raw,
    )
    if result.events_received is None or result.events_received < len(events):
        raise GraphAPIError(
            f"Meta received {result.events_received} of {len(events)} events "
            f"(messages: {result.messages or 'none'})",
            type="PartialAcceptance",
            fbtrace_id=result.fbtrace_id,
            retryable=False,
        )
    return result


def find_dataset(waba_id: str, *, client: GraphClient) -> str:
    """The dataset of a WhatsApp Business Account (``GET /{waba_id}/dataset``); "" when it has none.

    Meta's answer is documented loosely: ``{"id": ...}`` and ``{"data": [{"id": ...}]}`` are both
    accepted.
    """
    raw = client.get(f"{waba_id}/dataset", params={"fields": "id"})
    if raw.get("id"):
        return str(raw["id"])
    data = raw.get("data")
    if isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and item.get("id"):
                return str(item["id"])
    return ""
