"""The raw inbox after an erasure: every stored body that mentions the person is rewritten by its
provider without their items, or dropped when nothing else is in it.

Re-processing a stored body (a parser fix, ``whatsapp_reprocess --force``) must never bring an
erased person back, so this runs over every body, not only those linked to the lead's rows: a
status update or a consent notice names the person without any row pointing at it. A rewritten
body is no longer what the provider signed (``redacted_at``); a dropped one (``body_dropped_at``)
is never processed again, and its row keeps its outcome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import connection
from django.db.models import BinaryField, BooleanField, F, Func, Q, Value
from django.utils import timezone

from ...models import WebhookEvent
from ...providers.registry import UnknownProvider, get_provider
from .mentions import scrub_value

BATCH = 500
DROPPED_BEFORE_PROCESSING = "Body dropped by a personal-data erasure before it was processed."


class _BodyHolds(Func):
    """``body`` contains the given bytes, as a condition the database evaluates (PostgreSQL, SQLite)."""

    output_field = BooleanField()

    def __init__(self, needle: bytes) -> None:
        super().__init__(F("body"), Value(needle, output_field=BinaryField()))

    def as_postgresql(self, compiler, connection, **extra):  # noqa: ANN001, ANN003, ANN201
        # position(needle in body): the needle first.
        clone = self.copy()
        clone.set_source_expressions(list(reversed(self.get_source_expressions())))
        return clone.as_sql(
            compiler, connection, template="(position(%(expressions)s) > 0)", arg_joiner=" in ", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):  # noqa: ANN001, ANN003, ANN201
        return self.as_sql(compiler, connection, template="(instr(%(expressions)s) > 0)", **extra)


def _filtered(queryset, needles: list[bytes]):
    """``queryset`` narrowed in the database to bodies holding one of ``needles``, where it can.

    The database still reads every body, but in C and without sending them over the wire; the
    caller checks again in Python, so a backend without a byte search only costs time.
    """
    if connection.vendor not in ("postgresql", "sqlite"):
        return queryset
    condition = Q(pk__in=[])
    for needle in needles:
        condition |= Q(_BodyHolds(needle))
    return queryset.filter(condition)


def candidates(needles: list[bytes]) -> Iterable[tuple[int, str, bytes]]:
    """(pk, provider, body) of every kept body holding one of ``needles``, read in pk batches."""
    last = 0
    kept = _filtered(WebhookEvent.objects.filter(body_dropped_at__isnull=True), needles)
    while True:
        batch = list(kept.filter(pk__gt=last).order_by("pk").values_list("pk", "provider", "body")[:BATCH])
        if not batch:
            return
        last = batch[-1][0]
        for pk, provider, body in batch:
            body = bytes(body or b"")
            if any(n in body for n in needles):
                yield pk, provider, body


def _redact(provider_name: str, body: bytes, identities: set[str]) -> bytes | None:
    try:
        provider = get_provider(provider_name)
    except UnknownProvider:
        return None  # nobody can cut this format: the body goes
    return provider.redact(body, identities=identities)


def redact_bodies(identities: set[str], *, names: frozenset[str] | set[str] = frozenset()) -> Counter:
    """Rewrite or drop every stored body mentioning ``identities``; counts of each.

    A body is chosen by the ids only (a name alone matches strangers); in a chosen body the
    person's ``names`` are cut out too.
    """
    counts: Counter = Counter()
    needles = [i.encode() for i in identities if i]
    identities = identities | names
    if not needles:
        return counts
    now = timezone.now()
    for pk, provider, body in list(candidates(needles)):
        new = _redact(provider, body, identities)
        event = WebhookEvent.objects.get(pk=pk)
        event.error = scrub_value(event.error, identities)
        event.traceback = scrub_value(event.traceback, identities)
        if new is None:
            event.body, event.body_dropped_at, event.next_attempt_at = b"", now, None
            if event.status == WebhookEvent.Status.PENDING:
                event.status, event.error = WebhookEvent.Status.FAILED, DROPPED_BEFORE_PROCESSING
            counts["webhook bodies dropped"] += 1
        elif new != body:
            event.body, event.redacted_at = new, now
            counts["webhook bodies rewritten"] += 1
        else:
            continue
        event.save(
            update_fields=[
                "body",
                "body_dropped_at",
                "redacted_at",
                "next_attempt_at",
                "status",
                "error",
                "traceback",
            ]
        )
    return counts


def scrub_failure_texts(ids: set[str]) -> int:
    """Failure reasons quote payloads: cut the person's ids out of any event's error and traceback."""
    query = Q(pk__in=[])
    for value in ids:
        query |= Q(error__contains=value) | Q(traceback__contains=value)
    done = 0
    for event in WebhookEvent.objects.filter(query).only("pk", "error", "traceback"):
        WebhookEvent.objects.filter(pk=event.pk).update(
            error=scrub_value(event.error, ids), traceback=scrub_value(event.traceback, ids)
        )
        done += 1
    return done
