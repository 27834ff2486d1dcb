"""``manage.py whatsapp_retention``: apply the RETENTION_* periods now, in batches, with progress.

The same work as the hourly beat job; ``--dry-run`` counts what would go and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...services.privacy.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Drop webhook bodies older than RAW_BODY_RETENTION_DAYS after processing, delete media files "
        "older than MEDIA_RETENTION_DAYS, and erase won/lost leads quiet for CLOSED_LEAD_RETENTION_DAYS. "
        "Unset periods keep data forever. --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Rows per batch (RETENTION_BATCH_SIZE)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = apply_retention(
            dry_run=options["dry_run"], batch_size=options["batch_size"], progress=self.stdout.write
        )
        self.stdout.write(("Dry run: " if report.dry_run else "Done: ") + report.summary())
        for error in report.errors:
            self.stderr.write(error)
        if report.errors:
            raise CommandError(f"{len(report.errors)} lead(s) could not be erased; see above.")
