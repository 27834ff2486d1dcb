"""The options every personal-data command takes to name a person, and the leads they select."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from ..models import Lead
from ..services.privacy import find_person


def add_person_arguments(parser: CommandParser) -> None:
    parser.add_argument("--phone", default="", help="Phone number as the person gives it (+91 98765 43210).")
    parser.add_argument("--wa-id", default="", help="WhatsApp id (the phone digits Meta sends).")
    parser.add_argument("--user-id", default="", help="Business-scoped user id (BSUID), e.g. IN.1349...")
    parser.add_argument("--lead", type=int, default=None, metavar="ID", help="The lead's id.")


def selected_leads(options: dict[str, Any]) -> list[Lead]:
    """The leads the options name (current or past identities); CommandError when none are given or found."""
    given = {k: options.get(k) for k in ("phone", "wa_id", "user_id")}
    if not any(given.values()) and options.get("lead") is None:
        raise CommandError("Name the person with --phone, --wa-id, --user-id and/or --lead.")
    leads = list(find_person(**{k: v or "" for k, v in given.items()}, lead_id=options.get("lead")))
    if not leads:
        raise CommandError("No lead (that is not already erased) matches.")
    return leads
