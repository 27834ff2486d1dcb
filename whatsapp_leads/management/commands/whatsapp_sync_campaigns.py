"""``manage.py whatsapp_sync_campaigns [--account act_...]``: Click-to-WhatsApp campaigns from Meta.

For operators: the same sync the hourly beat job runs, on demand, with progress on stderr (so
stdout stays a clean summary for scripts) and a non-zero exit when an account failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...graph import GraphNotConfigured
from ...services.campaign_sync import SyncProgress, SyncReport, configured_accounts, sync_accounts


class ProgressLine:
    """One line of text per step; redrawn in place on a terminal, appended otherwise (logs, CI)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.in_place = bool(getattr(stream, "isatty", lambda: False)())
        self.open = False

    def __call__(self, step: SyncProgress) -> None:
        kept = "Click-to-WhatsApp" if step.stage == "ad sets" else "in those ad sets"
        text = f"[{step.position}/{step.total}] {step.account}: {step.stage}: {step.read} read, {step.kept} {kept}"
        if self.in_place:
            self.stream.write(f"\r\033[K{text}", ending="", style_func=str)
            self.stream.flush()
            self.open = True
        else:
            self.stream.write(text, style_func=str)

    def finish(self) -> None:
        if self.open:
            self.stream.write("", style_func=str)
            self.open = False


class Command(BaseCommand):
    help = (
        "Create and update the Click-to-WhatsApp campaigns, ad sets (destination_type WHATSAPP) and their "
        "ads of every ad account in META_AD_ACCOUNT_IDS, or of the accounts given with --account. Needs "
        "META_ACCESS_TOKEN (or WHATSAPP_ACCESS_TOKEN) with ads_read. Prints progress on stderr and "
        "created/updated counts per kind; exits non-zero when an account could not be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account",
            dest="accounts",
            action="append",
            metavar="act_ID",
            help="Sync this ad account instead of META_AD_ACCOUNT_IDS (repeatable; 'act_' optional).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            accounts = options["accounts"] or configured_accounts()
        except ValueError as exc:
            raise CommandError(f"META_AD_ACCOUNT_IDS: {exc}") from None
        if not accounts:
            raise CommandError("No ad account to sync: set META_AD_ACCOUNT_IDS or pass --account act_<id>.")
        progress = ProgressLine(self.stderr)
        try:
            report = sync_accounts(accounts, progress=progress)
        except GraphNotConfigured as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        finally:
            progress.finish()
        self._summarise(report)
        if report.errors:
            raise CommandError(f"{len(report.errors)} of {len(report.accounts)} ad account(s) failed.")

    def _summarise(self, report: SyncReport) -> None:
        ok = len(report.accounts) - len(report.errors)
        self.stdout.write(f"Synced {ok} of {len(report.accounts)} ad account(s).")
        self.stdout.write(f"  campaigns: {report.campaigns}")
        self.stdout.write(
            f"  ad sets:   {report.adsets} ({report.skipped_adsets} not Click-to-WhatsApp, skipped)"
        )
        self.stdout.write(f"  ads:       {report.ads}")
        if report.leads_linked:
            self.stdout.write(f"  leads given their campaign: {report.leads_linked}")
        for account, error in report.errors.items():
            self.stderr.write(self.style.ERROR(f"{account}: {error}"))
