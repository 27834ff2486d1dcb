"""``erase_lead``: every trace of one person removed or irreversibly anonymised, in one transaction.

What goes, found generically (``walk``), so tables added later are covered:
- every row of an app model with a foreign-key path to the lead (threads, messages, statuses,
  history, Flow answers, notes, outbound records...), deepest first, with the files their file
  fields point at deleted from storage once the transaction commits (never orphaned);
- rows elsewhere that quote the person's ids (``mentions``): statuses that came before their
  message, account notices, and the ids inside other leads' rows;
- the raw webhook bodies that mention them, rewritten by their provider or dropped (``bodies``).

What stays: the lead row itself, anonymised (every text and JSON column blanked, both ids NULL,
``erased_at`` set), with its status, campaign, ad, owner and times, so campaign numbers before and
after are equal; and the assignment log (``KEPT``), which routing counts daily caps from and which
holds no personal data. With both ids NULL and the history gone, no identity lookup can reach the
row again: a person who writes after their erasure becomes a new lead.

The erasure itself is recorded (``ErasureRecord``: when, by whom, why, counts), and ``lead_erased``
is sent after commit so the host CRM erases its side.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from ...models import ErasureRecord, Lead, LeadAssignment, SlaBreach
from ...signals import lead_erased
from ..sla import deadline
from .bodies import redact_bodies, scrub_failure_texts
from .identities import identities_of
from .mentions import remove_mentions
from .walk import file_fields, lead_paths, text_fields

logger = logging.getLogger(__name__)

# Lead columns an erasure keeps: the sales stage and the ad it came from are not the person.
KEPT_LEAD_FIELDS = frozenset({"status", "source_ad_id"})
# Rows kept: routing counts daily caps and "longest since the last lead" from the assignment log;
# the SLA's breach record (times, reps, what was done: nothing of the person) keeps the campaign's
# breach figures the same after an erasure.
KEPT: tuple[type[models.Model], ...] = (LeadAssignment, SlaBreach)

Trigger = ErasureRecord.Trigger


class AlreadyErased(Exception):
    """The lead was erased before; there is nothing of the person left to erase."""


def _blank(field: models.Field) -> Any:
    if field.null:
        return None
    if isinstance(field, models.JSONField):
        return field.get_default()
    return ""


def anonymise(lead: Lead, *, at: Any) -> list[str]:
    """Blank every text and JSON column of the lead but the kept ones; the fields changed."""
    changed = []
    for field in text_fields(Lead):
        if field.name in KEPT_LEAD_FIELDS:
            continue
        setattr(lead, field.attname, _blank(field))
        changed.append(field.attname)
    for field in file_fields(Lead):
        setattr(lead, field.attname, "")
        changed.append(field.attname)
    lead.erased_at = at
    return [*changed, "erased_at"]


def _delete_related(lead: Lead) -> tuple[Counter, list[tuple[Any, str]]]:
    """Delete every row on a path to the lead (deepest first); counts, and the files to delete."""
    counts: Counter = Counter()
    files: list[tuple[Any, str]] = []
    for path in sorted(lead_paths(), key=lambda p: -p.depth):
        if path.model in KEPT:
            continue
        rows = path.rows(lead)
        for field in file_fields(path.model):
            for name in rows.exclude(**{field.attname: ""}).values_list(field.attname, flat=True):
                if name:
                    files.append((field.storage, name))
        _, deleted = rows.delete()
        counts.update({label: n for label, n in deleted.items() if n})
    return counts, files


def _scrub_admin_log(lead: Lead) -> int:
    """The admin's change log names the lead (``object_repr``: its name) and what changed: cut both."""
    if not apps.is_installed("django.contrib.admin"):
        return 0
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id=str(lead.pk)
    ).update(object_repr=f"Erased lead #{lead.pk}", change_message="")


def _delete_files(files: list[tuple[Any, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:  # a storage outage must not hide the rest; the log names the file to remove
            logger.exception("erasure: could not delete stored file %s", name)


def erase_lead(lead: Lead, reason: str, by: Any = None, *, trigger: str = Trigger.OTHER) -> ErasureRecord:
    """Erase the person behind ``lead``; returns the audit record (no personal data in it).

    ``reason`` says why in staff's words; ``by`` is the staff user (None for retention).
    Raises ``AlreadyErased`` for a lead erased before.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("An erasure needs a reason (e.g. 'data principal request', 'consent withdrawn').")
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.erased_at is not None:
            raise AlreadyErased(f"Lead #{lead.pk} was erased at {lead.erased_at:%Y-%m-%d %H:%M}.")
        now = timezone.now()
        who = identities_of(lead)
        counts, files = _delete_related(lead)
        counts["files"] = len(files)
        counts.update(remove_mentions(who.ids, lead=lead, names=who.names))
        counts.update(redact_bodies(who.everything, names=who.names))
        counts["webhook failure texts (ids cut out)"] = scrub_failure_texts(who.ids)
        counts["admin log entries (scrubbed)"] = _scrub_admin_log(lead)
        changed = anonymise(lead, at=now)
        changed += deadline.clear(lead)  # nobody is to be chased about an erased person
        lead.save(update_fields=[*changed, "updated_at"])
        counts[Lead._meta.label + " (anonymised)"] = 1
        record = ErasureRecord.objects.create(
            lead_id_erased=lead.pk,
            erased_at=now,
            erased_by=by if getattr(by, "pk", None) else None,
            erased_by_label=(getattr(by, "get_username", lambda: "")() or "")[:150],
            trigger=trigger,
            reason=reason[:500],
            counts={k: n for k, n in sorted(counts.items()) if n or k == "files"},
        )
        transaction.on_commit(lambda: _delete_files(files))
        transaction.on_commit(lambda: lead_erased.send(sender=Lead, lead=lead, record=record))
    return record
