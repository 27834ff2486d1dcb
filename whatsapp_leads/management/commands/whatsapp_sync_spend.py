"""``manage.py whatsapp_sync_spend [--since DATE] [--until DATE] [--account act_...]``: daily spend per ad.

The same sync the beat job runs (``SPEND_SYNC_INTERVAL_SECONDS``), on demand and for any window:
progress on stderr, a summary on stdout, a non-zero exit when an account could not be read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...graph import GraphNotConfigured
from ...services.campaign_sync import configured_accounts
from ...services.spend import SpendProgress, sync_spend


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Read daily spend, impressions, clicks and conversations started per ad from the Marketing API "
        "insights of META_AD_ACCOUNT_IDS (or --account) and store them; re-reading a day updates it. "
        "Default window: the trailing SPEND_SYNC_DAYS. Needs META_ACCESS_TOKEN with ads_read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=iso_date, help="First day (YYYY-MM-DD).")
        parser.add_argument("--until", type=iso_date, help="Last day (YYYY-MM-DD); default today.")
        parser.add_argument(
            "--account", dest="accounts", action="append", metavar="act_ID", help="Ad account (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            accounts = options["accounts"] or configured_accounts()
        except ValueError as exc:
            raise CommandError(f"META_AD_ACCOUNT_IDS: {exc}") from None
        if not accounts:
            raise CommandError("No ad account to read: set META_AD_ACCOUNT_IDS or pass --account act_<id>.")

        def progress(step: SpendProgress) -> None:
            self.stderr.write(f"[{step.position}/{step.total}] {step.account}: {step.rows} ad-days read")

        try:
            report = sync_spend(accounts, since=options["since"], until=options["until"], progress=progress)
        except (GraphNotConfigured, ValueError) as exc:
            raise CommandError(str(exc)) from None
        ok = len(report.accounts) - len(report.errors)
        self.stdout.write(
            f"Read spend {report.since} to {report.until} of {ok} of {len(report.accounts)} ad account(s)."
        )
        self.stdout.write(f"  ad-days: {report.created} new, {report.updated} updated")
        for currency, total in sorted(report.spend.items()):
            self.stdout.write(f"  spend: {total} {currency or '(no currency)'}")
        for account, error in report.errors.items():
            self.stderr.write(self.style.ERROR(f"{account}: {error}"))
        if report.errors:
            raise CommandError(f"{len(report.errors)} of {len(report.accounts)} ad account(s) failed.")
