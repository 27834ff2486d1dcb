"""``manage.py whatsapp_export_person``: everything stored about a person as one JSON document.

For answering a data principal's request for access (DPDP Act s.11): the lead, every message,
status, history row, Flow answer and note, rows elsewhere quoting their ids, and the list of
stored files. Writes to stdout, or to ``--output``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...services.privacy import export_json
from ..person import add_person_arguments, selected_leads


class Command(BaseCommand):
    help = (
        "Print a person's data as JSON (one document, or a list when they have several leads). "
        "Name them with --phone, --wa-id, --user-id or --lead; --output FILE writes it to a file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument("--output", default="", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        document = export_json(selected_leads(options))
        if options["output"]:
            Path(options["output"]).write_text(document + "\n", encoding="utf-8")
            self.stderr.write(f"Wrote {options['output']}")
        else:
            self.stdout.write(document)
