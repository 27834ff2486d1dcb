"""What an erasure of a lead would remove, counted without changing anything: for the confirmation
page and ``whatsapp_erase --dry-run``, so a manager sees what goes before it goes."""

from __future__ import annotations

from ...models import Lead
from .erasure import KEPT
from .identities import identities_of
from .walk import file_fields, lead_paths


def erasure_preview(lead: Lead) -> dict[str, int]:
    """Rows per kind (verbose name) and files that ``erase_lead(lead)`` would delete."""
    counts: dict[str, int] = {}
    files = 0
    for path in lead_paths():
        if path.model in KEPT:
            continue
        rows = path.rows(lead)
        n = rows.count()
        if n:
            counts[str(path.model._meta.verbose_name_plural)] = n
        for field in file_fields(path.model):
            files += rows.exclude(**{field.attname: ""}).count()
    counts["stored files"] = files
    counts["identities searched for in webhook bodies"] = len(identities_of(lead).everything)
    return counts
