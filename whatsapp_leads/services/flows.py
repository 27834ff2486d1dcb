"""WhatsApp Flow answers onto the lead, as the host maps them in ``FLOW_FIELD_MAP``.

Meta does not say which Flow a reply belongs to, so the host names it: the key of
``FLOW_FIELD_MAP`` matches the reply's ``flow_token`` exactly, or as a prefix before ``:``
(``"lead_form:8f2a"``, so each send can carry a unique token), or the answer named by
``FLOW_ID_ANSWER``. Its mapping sends answer names to lead fields:

    WHATSAPP_LEADS = {"FLOW_FIELD_MAP": {"lead_form": {"email": "email", "full_name": "name", "city": "city"}}}

Targets that are not lead fields land in ``Lead.extra``. An answer that does not fit its field
(an invalid email) is skipped and named in ``Message.form_error``; the other answers still apply.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..conf import app_settings
from ..models import Lead, LeadHistory, Message
from ..parsing import FormReply
from .fitting import fit, limit
from .identity import record_change
from .phones import to_e164

LEAD_FIELDS = ("name", "email", "city", "phone")  # lengths: the model's (services.fitting)


def flow_mapping(form: FormReply) -> dict[str, str]:
    """The configured answer -> field mapping for this reply's Flow; empty when none matches."""
    flows: dict[str, Any] = app_settings.FLOW_FIELD_MAP or {}
    id_answer = app_settings.FLOW_ID_ANSWER
    named = form.answers.get(id_answer) if id_answer else None
    for key, mapping in flows.items():
        if not key or not isinstance(mapping, dict):
            continue
        if form.flow_token == key or form.flow_token.startswith(f"{key}:") or named == key:
            return mapping
    return {}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return None


def _clean(field: str, value: Any) -> tuple[str, str]:
    """(value for the lead field, problem)."""
    text = _text(value)
    if text is None:
        return "", f"{type(value).__name__} cannot fill a text field"
    if field == "email":
        size = limit(Lead, "email")
        if size is not None and len(text) > size:  # an address cut short would reach someone else
            return "", f"the email address is longer than {size} characters"
        try:
            validate_email(text)
        except ValidationError:
            return "", f"{text[:80]!r} is not a valid email address"
    if field == "phone":
        phone = to_e164(text)
        return (phone, "") if phone else ("", f"{text[:40]!r} is not a phone number")
    return fit(Lead, field, text), ""


def _newer_form_exists(lead: Lead, row: Message) -> bool:
    return (
        Message.objects.filter(conversation__lead=lead, timestamp__gt=row.timestamp)
        .exclude(flow_token="", form_response={})
        .exists()
    )


def apply_form(lead: Lead, row: Message, form: FormReply) -> list[str]:
    """Copy mapped answers onto the (locked) lead; the lead fields changed."""
    mapping = flow_mapping(form)
    if form.error or not mapping or _newer_form_exists(lead, row):
        return []
    changed: set[str] = set()
    problems: list[str] = []
    for answer, target in mapping.items():
        if answer not in form.answers or not isinstance(target, str):
            continue
        value = form.answers[answer]
        if target not in LEAD_FIELDS:
            lead.extra = {**lead.extra, target: value}
            changed.add("extra")
            continue
        cleaned, problem = _clean(target, value)
        if problem:
            problems.append(f"{answer}: {problem}")
            continue
        if not cleaned or cleaned == getattr(lead, target):
            continue
        if target == "name" and lead.name:
            record_change(
                lead, kind=LeadHistory.Kind.NAME, previous=lead.name, current=cleaned,
                detail="From a WhatsApp Flow form", at=row.timestamp,
            )  # fmt: skip
        setattr(lead, target, cleaned)
        changed.add(target)
    if changed:
        lead.save(update_fields=[*sorted(changed), "updated_at"])
    if problems:
        row.form_error = "Some answers were not applied: " + "; ".join(problems)
        Message.objects.filter(pk=row.pk).update(form_error=row.form_error)
    return sorted(changed)
