"""Rows "already stored" before a measurement, written by SQL (INSERT ... SELECT generate_series).

The ORM would take minutes for a million rows; copying one real row (made by the app itself, so
every NOT NULL column holds a value the app wrote) with its unique columns rewritten takes
seconds, and the indexes end up as large as they would be after a million real webhooks.
"""

from __future__ import annotations

import time


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id'"
        " ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _clone(cursor, table: str, *, source: str, where: str, overrides: dict[str, str], params: list) -> int:
    """INSERT INTO table SELECT <template row's columns, some rewritten> FROM <source> WHERE <where>."""
    columns = _columns(cursor, table)
    select = ", ".join(overrides.get(name, f"t.{name}") for name in columns)
    quoted = ", ".join(f'"{name}"' for name in columns)
    cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT {select} FROM {source} WHERE {where}", params)  # noqa: S608
    return cursor.rowcount


def store_history(events: int, *, tag: str) -> dict[str, float]:
    """``events`` processed webhook events, as many stored messages (10 per thread, one lead per thread).

    Copies of the newest processed inbound event, lead, thread and message. ``tag`` keeps the
    unique columns of one call apart from another's.
    """
    from django.db import connection, transaction

    from whatsapp_leads.models import Conversation, Lead, Message, WebhookEvent

    started = time.perf_counter()
    event = WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).order_by("-pk").first()
    message = Message.objects.filter(direction=Message.Direction.INBOUND).order_by("-pk").first()
    if event is None or message is None:
        raise RuntimeError("store_history copies a processed event and an inbound message: run a phase first")
    conversation = Conversation.objects.get(pk=message.conversation_id)
    lead = Lead.objects.get(pk=conversation.lead_id)
    threads = max(1, events // 10)
    lead_table, conv_table = Lead._meta.db_table, Conversation._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        _clone(
            cursor,
            WebhookEvent._meta.db_table,
            source=f"{WebhookEvent._meta.db_table} t, generate_series(1, %s) g",
            where="t.id = %s",
            overrides={
                "received_at": "t.received_at - g * interval '1 second'",
                "queued_at": "t.received_at - g * interval '1 second'",
                "processed_at": "t.received_at - g * interval '1 second'",
            },
            params=[events, event.pk],
        )
        _clone(
            cursor,
            lead_table,
            source=f"{lead_table} t, generate_series(1, %s) g",
            where="t.id = %s",
            overrides={
                "wa_id": f"'h{tag}' || g",
                "user_id": "NULL",
                "phone": f"'+9{tag}' || g",
                "name": "'History ' || g",
                "created_at": "t.created_at - g * interval '1 minute'",
            },
            params=[threads, lead.pk],
        )
        _clone(
            cursor,
            conv_table,
            source=f"{conv_table} t, {lead_table} l",
            where="t.id = %s AND l.wa_id LIKE %s",
            overrides={"lead_id": "l.id"},
            params=[conversation.pk, f"h{tag}%"],
        )
        _clone(
            cursor,
            Message._meta.db_table,
            source=f"{Message._meta.db_table} t, {conv_table} c, {lead_table} l, generate_series(1, 10) g",
            where="t.id = %s AND c.lead_id = l.id AND l.wa_id LIKE %s",
            overrides={
                "wamid": f"'wamid.hist.{tag}.' || c.id || '.' || g",
                "conversation_id": "c.id",
                "webhook_event_id": "NULL",
                "payload": "'{}'::jsonb",
                "referral": "'{}'::jsonb",
                "timestamp": "t.timestamp - g * interval '1 minute'",
            },
            params=[message.pk, f"h{tag}%"],
        )
    # The seed's own aftermath must not land in the measurement that follows: autovacuum would
    # start on the freshly inserted tables and the checkpointer flush the seed's WAL during the
    # drain. A database that grew to this size over months has both behind it: do them now.
    with connection.cursor() as cursor:
        for table in (WebhookEvent, Lead, Conversation, Message):
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table._meta.db_table)}")
        cursor.execute("ANALYZE")
        cursor.execute("CHECKPOINT")
    return {
        "events": events,
        "leads": threads,
        "messages": threads * 10,
        "seconds": time.perf_counter() - started,
    }
