"""``manage.py whatsapp_check_sla``: apply every first-response SLA breach that is due, and say what.

The same work as the beat job (``SLA_CHECK_SECONDS``); run it by hand, or from cron where beat
does not run. Safe beside beat and other checkers: a breach is applied once whoever gets there.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ...models import Lead, SlaBreach
from ...services.sla.breaches import check_due


class Command(BaseCommand):
    help = "Apply first-response SLA breaches that are due (notify the owner/managers, or re-assign)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Leads per transaction (SLA_BATCH_SIZE)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List the leads that are due; change nothing."
        )

    def _line(self, breach: SlaBreach) -> str:
        lead = breach.lead
        who = lead.name or lead.phone or "-"
        return f"Lead #{lead.pk} ({who}), due {breach.due_at:%Y-%m-%d %H:%M:%S %Z}, level {breach.level}: {breach.detail}"

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["batch_size"]
        if size is not None and size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["dry_run"]:
            due = Lead.objects.filter(sla_due_at__lte=timezone.now()).order_by("sla_due_at", "pk")
            for lead in due[:50]:
                self.stdout.write(
                    f"Due: lead #{lead.pk} ({lead.name or lead.phone or '-'}) since {lead.sla_due_at}"
                )
            self.stdout.write(f"Dry run: {due.count()} lead(s) due.")
            return

        def batch(applied: list[SlaBreach]) -> None:
            for breach in applied:
                self.stdout.write(self._line(breach))

        report = check_due(batch_size=size, on_batch=batch, keep_breaches=False)
        counts = ", ".join(f"{n} {action}" for action, n in sorted(report.actions.items()))
        self.stdout.write(
            f"Done: {report.applied} breach(es) applied"
            + (f" ({counts})" if counts else "")
            + f"; {report.cleared} no longer due; {report.failed} failed."
        )
        if report.failed:
            raise CommandError(f"{report.failed} lead(s) could not be checked; see the log.")
