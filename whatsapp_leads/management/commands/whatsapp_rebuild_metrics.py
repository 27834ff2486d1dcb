"""``manage.py whatsapp_rebuild_metrics``: recompute the engagement figures from the stored messages.

The services keep the figures current as messages arrive; this is for rows stored before they
existed, or after changing ``RESPONSE_ORIGINS``. Safe to run while traffic flows (each batch
locks only its own leads, briefly) and to run again (the result only depends on the messages).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...services.engagement import rebuild


class Command(BaseCommand):
    help = (
        "Recompute response times, counts, last inbound/outbound and awaiting-reply of every lead and "
        "conversation from their messages, in batches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Leads per transaction (500).")
        parser.add_argument("--campaign", type=int, default=None, help="Only this campaign's leads (id).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = rebuild(
            batch_size=options["batch_size"], campaign_id=options["campaign"], progress=self.stdout.write
        )
        self.stdout.write(f"Done: {report.summary()}")
