"""``manage.py whatsapp_reprocess``: hand stored webhooks to the worker again, or process them here.

For operators after an outage or a parser fix: the inbox keeps every signed body, and processing
is idempotent, so running an event again converges on the same rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from ...models import WebhookEvent
from ...services.processing import process_event

# After this many publishes in a row fail, the broker is taken to be down and the rest are left
# to the sweep (or --sync) instead of each waiting on its own connection timeout.
MAX_CONSECUTIVE_PUBLISH_FAILURES = 3


class Command(BaseCommand):
    help = (
        "Queue stored WhatsApp webhook events for the worker again, or process them in this process. "
        "Select with --pending (events still waiting, as the periodic sweep would), --failed (events "
        "whose processing failed, whatever their attempt count) and/or --id N [N ...]. "
        "--older-than SECONDS keeps only events last queued (else received) at least that long ago "
        "(default 0: all). --force also re-runs processed events named with --id. "
        "--sync processes inline instead of queuing: use it when the broker is down. "
        "Prints how many were queued, processed, failed or skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pending", action="store_true", help="Select pending events.")
        parser.add_argument("--failed", action="store_true", help="Select failed events (any attempt count).")
        parser.add_argument(
            "--id", dest="ids", type=int, nargs="+", default=[], metavar="N", help="Select events by id."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Re-run events already processed (those named with --id), e.g. after a parser fix.",
        )
        parser.add_argument(
            "--sync", action="store_true", help="Process here, one by one, instead of queuing for the worker."
        )
        parser.add_argument(
            "--older-than",
            type=float,
            default=0,
            metavar="SECONDS",
            help="With --pending/--failed: only events last queued (else received) this long ago. Default 0.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["pending"] or options["failed"] or options["ids"]):
            raise CommandError("Select events with --pending, --failed and/or --id N.")
        if options["older_than"] < 0:
            raise CommandError("--older-than must not be negative.")
        ids = self._select(options)
        if not ids:
            self.stdout.write("No matching webhook events.")
            return
        if options["sync"]:
            self._process(ids, force=options["force"])
        else:
            self._queue(ids, force=options["force"])

    def _select(self, options: dict[str, Any]) -> list[int]:
        """Ids in arrival order; named ids that do not exist are reported, not fatal."""
        wanted = Q(pk__in=[])
        if options["pending"] or options["failed"]:
            statuses = [
                s
                for s, on in (
                    (WebhookEvent.Status.PENDING, options["pending"]),
                    (WebhookEvent.Status.FAILED, options["failed"]),
                )
                if on
            ]
            cutoff = timezone.now() - timedelta(seconds=options["older_than"])
            wanted |= Q(status__in=statuses, last_touch__lte=cutoff)
        if options["ids"]:
            wanted |= Q(pk__in=options["ids"])
        events: QuerySet[WebhookEvent] = WebhookEvent.objects.annotate(
            last_touch=Coalesce("queued_at", "received_at")
        ).filter(wanted)
        ids = list(events.order_by("received_at", "pk").values_list("pk", flat=True))
        missing = sorted(set(options["ids"]) - set(ids))
        if missing:
            self.stderr.write(f"No webhook event with id {', '.join(map(str, missing))}.")
        return ids

    def _process(self, ids: list[int], *, force: bool) -> None:
        counts: Counter[str] = Counter()
        for pk in ids:
            outcome = process_event(pk, force=force)
            counts[outcome.status] += 1
            if outcome.status == "failed":
                error = WebhookEvent.objects.filter(pk=pk).values_list("error", flat=True).first() or ""
                self.stderr.write(f"event {pk} failed: {error.splitlines()[0] if error else 'see the admin'}")
        self.stdout.write(
            f"{len(ids)} selected: {counts['processed']} processed, {counts['failed']} failed, "
            f"{counts['skipped']} skipped (already processed; --force re-runs them)."
        )

    def _queue(self, ids: list[int], *, force: bool) -> None:
        if force:
            # The task skips processed events; making them pending is what "run it again" means.
            WebhookEvent.objects.filter(pk__in=ids, status=WebhookEvent.Status.PROCESSED).update(
                status=WebhookEvent.Status.PENDING
            )
        todo = WebhookEvent.objects.filter(pk__in=ids).exclude(status=WebhookEvent.Status.PROCESSED)
        processed = len(ids) - todo.count()
        selected = len(ids) - processed
        queued = todo.requeue(give_up_after=MAX_CONSECUTIVE_PUBLISH_FAILURES)
        failures = selected - queued
        self.stdout.write(
            f"{len(ids)} selected: {queued} queued, {failures} could not be queued, "
            f"{processed} skipped (already processed; --force re-runs them)."
        )
        if failures:
            self.stderr.write(
                "The broker did not take every event: they stay in the inbox for the periodic sweep. "
                "Run again with --sync to process them here."
            )
