"""``manage.py whatsapp_sync_templates [--waba ID]``: message templates from the WhatsApp Business Account.

The same sync the hourly beat job runs, on demand: progress per page on stderr, a summary on
stdout, a non-zero exit when Meta could not be read.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...graph import GraphAPIError
from ...services.outbound.templates import sync_templates


class Command(BaseCommand):
    help = (
        "Create and update the message templates of WHATSAPP_BUSINESS_ACCOUNT_ID (or --waba) from "
        "GET /{waba_id}/message_templates, following every page. Needs WHATSAPP_ACCESS_TOKEN. Only "
        "approved templates are offered to reps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--waba", metavar="ID", help="Sync this WhatsApp Business Account instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = sync_templates(waba_id=options["waba"], progress=lambda line: self.stderr.write(line))
        except GraphAPIError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Synced {report.seen} template(s) in {report.pages} page(s): {report.created} new, "
            f"{report.updated} updated, {report.approved} approved."
        )
