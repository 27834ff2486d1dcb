"""Statuses of our outbound messages: every report kept, the message's status only moves forward.

Order comes from what a status means and Meta's timestamp, never from arrival: ``read`` that
arrives before ``delivered`` stays ``read``; ``failed`` is terminal. A status for a message we do
not know yet waits in ``StatusUpdate`` and is applied when the message is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..models import Message, StatusUpdate, WebhookEvent
from ..parsing import Billing, MessageStatus
from ..parsing.enums import DeliveryStatus
from ..providers.registry import DEFAULT_PROVIDER, UnknownProvider, get_provider
from ..signals import message_failed, message_status_changed
from .bulk import dumps_rows, record_type, update_rows
from .fitting import exact, fit, fitted
from .outbound.outbox import resolve_by_callback
from .partial import partial_instances, raw_instances

RANK: dict[str, int] = {
    "pending": 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.PLAYED: 4,
}
TERMINAL = DeliveryStatus.FAILED
TIMESTAMP_FIELD: dict[str, str] = {
    DeliveryStatus.SENT: "sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.READ: "read_at",
    DeliveryStatus.FAILED: "failed_at",
}


def billing_fields(billing: Billing | None) -> dict[str, object]:
    """Pricing and pricing-conversation columns of a ``StatusUpdate`` (empty when Meta sent none)."""
    if billing is None:
        return {}
    return {
        **fitted(
            StatusUpdate,
            pricing_category=billing.category,
            pricing_type=billing.type,
            pricing_model=billing.model,
            conversation_id=billing.conversation_id,
            conversation_origin=billing.conversation_origin,
        ),
        "billable": billing.billable,
        "conversation_expires_at": billing.conversation_expires_at,
    }


def moves_forward(current: str, new: str) -> bool:
    if current == TERMINAL or new not in RANK and new != TERMINAL:
        return False
    if new == TERMINAL:
        return True
    return RANK[new] > RANK.get(current, -1)


def _change(message: Message, update: StatusUpdate | _Report) -> tuple[list[str], str | None]:
    """Apply one stored status to the (locked) message in memory: (changed fields, previous status or None).

    The previous status is returned only when the visible status moved (forward, see ``moves_forward``).
    """
    if message.direction != Message.Direction.OUTBOUND:
        return [], None
    fields: list[str] = []
    stamp_field = TIMESTAMP_FIELD.get(update.status)
    if stamp_field and getattr(message, stamp_field) is None:
        setattr(message, stamp_field, update.timestamp)
        fields.append(stamp_field)
    previous = message.status
    changed = moves_forward(previous, update.status)
    if changed:
        message.status = update.status
        message.status_timestamp = update.timestamp
        fields += ["status", "status_timestamp"]
        if update.status == TERMINAL:
            message.error_code, message.error_title = update.error_code, update.error_title
            message.error_message, message.error_details = update.error_message, update.error_details
            fields += ["error_code", "error_title", "error_message", "error_details"]
            words = failure_words(message)
            if words:
                message.error_words = words
                fields.append("error_words")
            if message.send_state:
                message.send_state = Message.SendState.REFUSED
                fields.append("send_state")
    if update.biz_opaque_callback_data and not message.biz_opaque_callback_data:
        message.biz_opaque_callback_data = update.biz_opaque_callback_data
        fields.append("biz_opaque_callback_data")
    return fields, previous if changed else None


def _send(message: Message, status: str, previous: str) -> None:
    """The signals of one change: the status change, and for a failure its reason too."""
    message_status_changed.send(sender=Message, message=message, status=status, previous_status=previous)
    if status == TERMINAL:
        message_failed.send(
            sender=Message, message=message, code=message.error_code, words=message.error_words
        )


def _announce(message: Message, status: str, previous: str) -> None:
    """The signals of one change, after commit (once per change, in the order they were applied)."""
    transaction.on_commit(lambda: _send(message, status, previous))


def _announce_all(changes: list[tuple[Message, str, str]]) -> None:
    """A batch's signals, after its commit: ``_send`` for each (message, status, previous) in order.

    One ``on_commit`` hook for the batch rather than one or two per change: registering a hook
    cost about as much as the forward-only rule itself. As with a hook per change, a receiver
    that raises stops the signals after it.
    """
    for message, status, previous in changes:
        _send(message, status, previous)


def apply(message: Message, update: StatusUpdate) -> bool:
    """Apply one stored status to its (locked) message; True when the visible status changed."""
    fields, previous = _change(message, update)
    if fields:
        message.save(update_fields=fields)
    if previous is not None:
        _announce(message, update.status, previous)
    return previous is not None


def failure_words(message: Message) -> str:
    """What a failed status's code means for the rep, from the thread's provider's table."""
    if not message.error_code:
        return ""
    try:
        provider = get_provider(message.conversation.provider or DEFAULT_PROVIDER)
    except UnknownProvider:
        return ""
    return provider.explain_error(message.error_code)[0]


def apply_pending(message: Message) -> int:
    """Apply statuses that arrived before the message, oldest first; returns how many changed it."""
    changed = 0
    for update in StatusUpdate.objects.filter(wamid=message.wamid, applied=False).order_by("timestamp", "id"):
        changed += apply(message, update)
        update.message, update.applied = message, True
        update.save(update_fields=["message", "applied"])
    return changed


def _row_values(status: MessageStatus) -> tuple[str, str, dict[str, object]]:
    """(wamid, status, the other columns) of the ``StatusUpdate`` a reported status is kept as."""
    error = status.errors[0] if status.errors else None
    wamid = exact(StatusUpdate, "wamid", status.wamid, label="message id")
    defaults = {
        "timestamp": status.timestamp,
        **fitted(
            StatusUpdate,
            recipient_id=status.recipient_id or status.recipient_user_id,
            error_code=error.code if error else "",
            error_title=(error.title or error.message) if error else "",
            biz_opaque_callback_data=status.biz_opaque_callback_data,
        ),
        "error_message": error.message if error else "",
        "error_details": error.details if error else "",
        **billing_fields(status.billing),
        "payload": status.raw,
    }
    return wamid, fit(StatusUpdate, "status", status.status), defaults


def record_status(status: MessageStatus, *, event: WebhookEvent | None = None) -> StatusUpdate:
    """Keep the report (once per message and status) and apply it if the message is known."""
    wamid, state, defaults = _row_values(status)
    try:
        with transaction.atomic():
            row, _ = StatusUpdate.objects.get_or_create(wamid=wamid, status=state, defaults=defaults)
    except IntegrityError:  # a concurrent worker stored the same report first
        row = StatusUpdate.objects.get(wamid=wamid, status=state)
    if row.applied:
        return row
    message = Message.objects.select_for_update().filter(wamid=wamid).first()
    if message is None and status.biz_opaque_callback_data:
        # The send's answer was lost (a timeout after the request went out): our outbox id, echoed
        # by Meta, names the message, and this status proves Meta accepted it.
        message = resolve_by_callback(status.biz_opaque_callback_data, wamid)
    if message is not None:
        apply_pending(message)
    return row


class _Report(NamedTuple):
    """A stored status as ``record_statuses`` reads it back: what ``_change`` needs, no model instance."""

    id: int
    wamid: str
    status: str
    timestamp: datetime
    error_code: str
    error_title: str
    error_message: str
    error_details: str
    biz_opaque_callback_data: str
    applied: bool


REPORT_COLUMNS = _Report._fields

# What ``_change`` reads and writes (and ``failure_words``, ``_announce`` read): the batch locks
# and loads only these. A receiver of the signals still gets a ``Message``; any other field it
# reads is loaded when it reads it (Django's deferred fields). Loading all of them (seven JSON
# columns among forty-odd) cost twice as much as everything else done for a status.
MESSAGE_FIELDS = (
    "wamid",
    "conversation",
    "direction",
    "status",
    "status_timestamp",
    *TIMESTAMP_FIELD.values(),
    "error_code",
    "error_title",
    "error_message",
    "error_details",
    "error_words",
    "send_state",
    "biz_opaque_callback_data",
)


def _lock_messages(wamids: list[str]) -> list[Message]:
    """The messages of ``wamids``, locked (``FOR UPDATE``) in id order, only ``MESSAGE_FIELDS`` loaded.

    PostgreSQL: the statement written once, the wamids as one array parameter; compiling the
    queryset with a placeholder per wamid cost more than the rule applied to the rows.
    """
    names = ("id", *MESSAGE_FIELDS)
    if connection.vendor != "postgresql":
        locked = (
            Message.objects.select_for_update().filter(wamid__in=wamids).order_by("pk").values_list(*names)
        )
        return partial_instances(Message, names, locked)
    meta = Message._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    selected = ", ".join(quote(str(field.column)) for field in fields)  # type: ignore[union-attr]
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selected} FROM {table} WHERE wamid = ANY(%s) ORDER BY id FOR UPDATE",  # noqa: S608
            [wamids],
        )
        rows = cursor.fetchall()
    return raw_instances(Message, names, rows)


def _keep_and_load(
    rows: dict[tuple[str, str], dict[str, Any]], known: dict[str, int]
) -> list[_Report] | list[StatusUpdate]:
    """Store the reports (ON CONFLICT DO NOTHING), and every unapplied one of their messages, oldest first.

    ``rows``: the other columns of each (wamid, status), as ``_row_values`` gives them; ``known``:
    the id of each wamid's (locked) message. PostgreSQL: one statement, the INSERT ... RETURNING
    in a CTE (what it stored) and a SELECT of the unapplied rows stored before (the CTE's rows
    are not in the statement's snapshot, so none is read twice), the rows as one JSON parameter
    written straight from those values (no model instance: building and dumping them cost more
    than the INSERT). A report of a known message is stored already linked and applied (the
    caller applies every row this returns, in this transaction), which spares a second write
    of each row; ``applied`` on what comes back tells which still need ``_mark_applied``.
    Elsewhere: bulk_create and a SELECT, every row then marked.
    """
    wamids = sorted({wamid for wamid, _ in rows})
    if connection.vendor != "postgresql":
        StatusUpdate.objects.bulk_create(
            [StatusUpdate(wamid=wamid, status=state, **values) for (wamid, state), values in rows.items()],
            ignore_conflicts=True,
        )
        return list(StatusUpdate.objects.filter(wamid__in=wamids, applied=False).order_by("timestamp", "id"))
    meta = StatusUpdate._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    now = timezone.now()  # auto_now(_add) columns, stamped as bulk_create stamps them
    base = {
        str(field.column): now if getattr(field, "auto_now_add", False) else field.get_default()
        for field in fields
    }
    # In key order, so two batches inserting the same reports take their index entries in one order.
    records = [
        {
            **base,
            "wamid": wamid,
            "status": state,
            **values,
            "message_id": known.get(wamid),
            "applied": wamid in known,
        }
        for (wamid, state), values in sorted(rows.items())
    ]
    columns = ", ".join(quote(str(field.column)) for field in fields)
    returned = ", ".join(quote(name) for name in REPORT_COLUMNS)
    sql = (
        f"WITH new AS (INSERT INTO {table} ({columns})"  # noqa: S608 - names from the model, values as params
        f" SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS v({record_type(fields)})"
        f" ON CONFLICT DO NOTHING RETURNING {returned})"
        f" SELECT {returned} FROM new"
        f" UNION ALL SELECT {returned} FROM {table} WHERE wamid = ANY(%s) AND NOT applied"
        " ORDER BY 4, 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [dumps_rows(records), wamids])
        return [_Report(*row) for row in cursor.fetchall()]


def _mark_applied(applied: list[tuple[int, int]]) -> None:
    """(report id, message id) pairs: those reports are applied to those messages, in one UPDATE."""
    if not applied:
        return
    if connection.vendor != "postgresql":
        update_rows(
            [StatusUpdate(id=pk, message_id=message, applied=True) for pk, message in applied],
            ["message", "applied"],
        )
        return
    table = connection.ops.quote_name(StatusUpdate._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET message_id = v.message, applied = true"  # noqa: S608 - our table's name
            f" FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, message) WHERE {table}.id = v.id",
            [[pk for pk, _ in applied], [message for _, message in applied]],
        )


def record_statuses(reports: list[MessageStatus]) -> None:
    """``record_status`` for a whole batch in a few statements; call inside one transaction.

    One SELECT ... FOR UPDATE locks the messages the reports name (in id order, so two batches
    cannot deadlock on them; only the columns the rule needs, ``MESSAGE_FIELDS``), one statement
    keeps every report and reads back every unapplied one of their messages (``_keep_and_load``),
    the forward-only rule runs on each locked message exactly as ``apply`` does, one UPDATE
    writes the messages (``bulk.update_rows``) and, for reports not stored applied, one marks
    them. Signals are the same, after commit, once per change. Any error raises and the caller
    runs the reports one by one instead, so a bad one fails alone with its reason.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    callbacks: dict[str, str] = {}
    for report in reports:
        wamid, state, defaults = _row_values(report)
        rows.setdefault((wamid, state), defaults)
        if report.biz_opaque_callback_data:
            callbacks.setdefault(wamid, report.biz_opaque_callback_data)
    messages = {message.wamid: message for message in _lock_messages(sorted({wamid for wamid, _ in rows}))}
    waiting: dict[str, list[_Report | StatusUpdate]] = {}
    for row in _keep_and_load(rows, {wamid: message.pk for wamid, message in messages.items()}):
        waiting.setdefault(row.wamid, []).append(row)
    if not waiting:
        return
    for wamid in waiting.keys() - messages.keys():
        if wamid in callbacks:  # the send's answer was lost: see record_status
            found = resolve_by_callback(callbacks[wamid], wamid)
            if found is not None:
                messages[wamid] = found
    changed_fields: set[str] = set()
    changed_messages: list[Message] = []
    to_mark: list[tuple[int, int]] = []
    changes: list[tuple[Message, str, str]] = []
    for wamid, message in messages.items():  # in id order, as they were locked
        rows_of_message = waiting.get(wamid)
        if not rows_of_message:
            continue
        fields_of_message: set[str] = set()
        for row in rows_of_message:
            fields, previous = _change(message, row)
            fields_of_message.update(fields)
            if previous is not None:
                changes.append((message, row.status, previous))
            if not row.applied:
                to_mark.append((row.id, message.pk))
        if fields_of_message:
            changed_fields |= fields_of_message
            changed_messages.append(message)
    update_rows(changed_messages, sorted(changed_fields))
    _mark_applied(to_mark)
    if changes:
        transaction.on_commit(lambda: _announce_all(changes))


def reconcile(limit: int = 1000) -> int:
    """Apply waiting statuses whose message has since been stored.

    Closes the one race the normal path leaves open: a status and its message committed by two
    workers at the same instant, each unable to see the other. The sweep runs this.
    """
    wamids = (
        StatusUpdate.objects.filter(applied=False, wamid__in=Message.objects.values("wamid"))
        .values_list("wamid", flat=True)
        .distinct()[:limit]
    )
    done = 0
    for wamid in list(wamids):
        with transaction.atomic():
            message = Message.objects.select_for_update().get(wamid=wamid)
            done += apply_pending(message)
    return done
