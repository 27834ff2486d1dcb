"""``manage.py whatsapp_erase``: erase a person's data (DPDP Act), named by number, id or lead.

Shows what will go and asks for confirmation unless ``--yes``; ``--dry-run`` only shows it.
The work is ``services.privacy.erase_lead``; the audit record is printed without personal data.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import ErasureRecord
from ...services.privacy import AlreadyErased, erase_lead
from ...services.privacy.preview import erasure_preview
from ..person import add_person_arguments, selected_leads


class Command(BaseCommand):
    help = (
        "Erase everything stored about a person (lead fields, history, messages, files, statuses, "
        "notes, Flow answers and the raw webhook bodies that mention them). Name them with --phone, "
        "--wa-id, --user-id or --lead; --reason is required. The lead row stays, anonymised, so "
        "campaign numbers keep counting it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument("--reason", default="", help="Why (kept in the audit record): no personal data.")
        parser.add_argument("--by", default="", metavar="USERNAME", help="The staff member asking for it.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would go; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        leads = selected_leads(options)
        by = self._user(options["by"])
        for lead in leads:
            preview = erasure_preview(lead)
            self.stdout.write(
                f"Lead #{lead.pk} ({lead}): " + ", ".join(f"{n} {k}" for k, n in preview.items())
            )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was erased.")
            return
        if not options["reason"].strip():
            raise CommandError("--reason is required (e.g. --reason 'data principal request of 2 Dec').")
        if not options["yes"] and input(f"Erase {len(leads)} lead(s)? Type 'erase' to go on: ") != "erase":
            raise CommandError("Not confirmed; nothing was erased.")
        for lead in leads:
            try:
                record = erase_lead(lead, options["reason"], by, trigger=ErasureRecord.Trigger.COMMAND)
            except AlreadyErased as exc:
                self.stdout.write(str(exc))
                continue
            self.stdout.write(
                f"Erased lead #{record.lead_id_erased}: {json.dumps(record.counts, sort_keys=True)}"
            )

    def _user(self, username: str) -> Any:
        if not username:
            return None
        user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user
