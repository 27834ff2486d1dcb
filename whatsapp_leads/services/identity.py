"""A lead's identity over time: new numbers, new business-scoped ids, new names, and merges.

One person must stay one lead. Meta may first show us a phone number and later only a
business-scoped user id (or the reverse), and users change numbers. So:
- a contact carrying both ids that match two leads merges the younger lead into the older one;
- a number or user-id change moves the lead to the new identity and records the old one in
  ``LeadHistory``; a lead already holding the new identity is merged into the moving lead;
- a message from an old identity dated *before* the change still finds its lead through that
  history (a late or retried delivery), while one dated after it does not (numbers are recycled).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..models import AccountEvent, Conversation, Lead, LeadHistory, Message, WebhookEvent
from ..parsing import AccountNotice, Contact, IdentityChange
from ..signals import lead_merged
from .fitting import exact, fit, fitted
from .phones import to_e164

Kind = LeadHistory.Kind
ID_LABELS: dict[str, str] = {Kind.WA_ID: "WhatsApp id", Kind.USER_ID: "user id"}


class IdentityTaken(IntegrityError):
    """Another lead took the identity after we looked it up (a worker racing us committed in between).

    An ``IntegrityError``, so the callers' retry (``leads.get_or_create_lead``; the inbox's retry
    for an identity change) does the lookup again, finds both leads, and merges them. Skipping the
    identity instead would leave one person as two leads for good.
    """


def record_change(
    lead: Lead,
    *,
    kind: str,
    previous: str,
    current: str,
    detail: str = "",
    at: datetime | None = None,
    event: WebhookEvent | None = None,
) -> LeadHistory:
    return LeadHistory.objects.create(
        lead=lead,
        kind=kind,
        **fitted(LeadHistory, previous=previous, current=current, detail=detail),
        occurred_at=at,
        webhook_event=event,
    )


def _locked(query: Q) -> Lead | None:
    return Lead.objects.select_for_update().filter(query).order_by("created_at", "pk").first()


def previous_owner(contact: Contact, *, before: datetime) -> Lead | None:
    """The lead that held this (now replaced) identity when a message dated ``before`` was sent."""
    ids = Q(pk__in=[])
    if contact.wa_id:
        ids |= Q(kind=Kind.WA_ID, previous=contact.wa_id)
    if contact.user_id:
        ids |= Q(kind=Kind.USER_ID, previous=contact.user_id)
    row = LeadHistory.objects.filter(ids, occurred_at__gt=before).order_by("occurred_at", "pk").first()
    return Lead.objects.select_for_update().filter(pk=row.lead_id).first() if row else None


def find_and_merge(
    contact: Contact, *, at: datetime | None = None, event: WebhookEvent | None = None
) -> Lead | None:
    """The contact's lead, locked; when its two ids point at two leads, they are one person: merge."""
    by_user = _locked(Q(user_id=contact.user_id)) if contact.user_id else None
    by_wa = _locked(Q(wa_id=contact.wa_id)) if contact.wa_id else None
    if by_user and by_wa and by_user.pk != by_wa.pk:
        older, younger = sorted((by_user, by_wa), key=lambda lead: (lead.created_at, lead.pk))
        detail = f"Same person: WhatsApp number {contact.wa_id} and user id {contact.user_id}"
        return merge_leads(older, younger, detail=detail, at=at, event=event)
    return by_user or by_wa


def _set_identity(
    lead: Lead, *, kind: str, value: str, detail: str, at: datetime | None, event: WebhookEvent | None
) -> list[str]:
    """Give the lead a new wa_id or user_id (and phone), recording what it replaces."""
    current = getattr(lead, kind) or ""
    value = exact(Lead, kind, value, label=ID_LABELS[kind])
    if not value or value == current:
        return []
    if Lead.objects.filter(**{kind: value}).exclude(pk=lead.pk).exists():
        # find_and_merge/apply_change merged every holder they saw; this one committed since.
        raise IdentityTaken(f"another lead took {ID_LABELS[kind]} {value} meanwhile")
    if current:
        record_change(lead, kind=kind, previous=current, current=value, detail=detail, at=at, event=event)
    setattr(lead, kind, value)
    changed = [kind]
    if kind == Kind.WA_ID:
        phone = to_e164(value)
        if phone and phone != lead.phone:
            if lead.phone:
                record_change(
                    lead,
                    kind=Kind.PHONE,
                    previous=lead.phone,
                    current=phone,
                    detail=detail,
                    at=at,
                    event=event,
                )
            lead.phone = phone
            changed.append("phone")
    return changed


def refresh_identity(
    lead: Lead, contact: Contact, *, at: datetime, event: WebhookEvent | None = None
) -> list[str]:
    """What a message teaches about its sender's lead; changed field names (unsaved).

    Missing ids are filled from any message; ids, username and name are *replaced* only by a
    message at least as recent as the lead's latest, so a late old message never undoes a change.
    """
    newer = lead.last_message_at is None or at >= lead.last_message_at
    changed: list[str] = []
    for kind, value in ((Kind.USER_ID, contact.user_id), (Kind.WA_ID, contact.wa_id)):
        if value and (newer or not getattr(lead, kind)):
            changed += _set_identity(
                lead, kind=kind, value=value, detail="Seen on a message", at=at, event=event
            )
    if contact.wa_id and not lead.phone and "phone" not in changed:
        lead.phone = to_e164(contact.wa_id)
        changed += ["phone"] if lead.phone else []
    for kind, value in ((Kind.USERNAME, contact.username), (Kind.NAME, contact.name)):
        value = fit(Lead, kind, value)
        old = getattr(lead, kind)
        if value and value != old and (newer or not old):
            if old:
                record_change(
                    lead, kind=kind, previous=old, current=value, detail="Profile changed", at=at, event=event
                )
            setattr(lead, kind, value)
            changed.append(kind)
    return changed


def _merge_conversations(target: Lead, duplicate: Lead) -> None:
    for conversation in Conversation.objects.filter(lead=duplicate):
        existing = Conversation.objects.filter(
            lead=target, phone_number_id=conversation.phone_number_id
        ).first()
        if existing is None:
            Conversation.objects.filter(pk=conversation.pk).update(lead=target)
            continue
        Message.objects.filter(conversation=conversation).update(conversation=existing)
        existing.message_count += conversation.message_count
        existing.inbound_count += conversation.inbound_count
        for name, pick in (("started_at", min), ("last_message_at", max), ("last_inbound_at", max)):
            values = [v for v in (getattr(existing, name), getattr(conversation, name)) if v is not None]
            setattr(existing, name, pick(values) if values else None)
        existing.save()
        conversation.delete()


def _move_related(target: Lead, duplicate: Lead) -> None:
    """Every other row pointing at the duplicate (assignments, history, host models) now points at the target."""
    for relation in Lead._meta.related_objects:
        if not relation.one_to_many or relation.related_model is Conversation:
            continue
        field = relation.field.name
        relation.related_model._base_manager.filter(**{field: duplicate}).update(**{field: target})


FILLED_FROM_DUPLICATE = ("name", "username", "phone", "email", "city", "owner_id", "campaign_id", "ad_id")


def merge_leads(
    target: Lead,
    duplicate: Lead,
    *,
    detail: str,
    at: datetime | None = None,
    event: WebhookEvent | None = None,
) -> Lead:
    """Fold ``duplicate`` into ``target`` (both locked by the caller) and delete it."""
    _merge_conversations(target, duplicate)
    _move_related(target, duplicate)
    for name in FILLED_FROM_DUPLICATE:
        if not getattr(target, name) and getattr(duplicate, name):
            setattr(target, name, getattr(duplicate, name))
    if not target.referral and duplicate.referral:
        target.referral, target.source_ad_id = duplicate.referral, duplicate.source_ad_id
        target.ctwa_clid = duplicate.ctwa_clid
    if duplicate.first_message_at and (
        not target.first_message_at or duplicate.first_message_at < target.first_message_at
    ):
        target.first_message, target.first_message_at = duplicate.first_message, duplicate.first_message_at
    if duplicate.last_message_at and (
        not target.last_message_at or duplicate.last_message_at > target.last_message_at
    ):
        target.last_message_at = duplicate.last_message_at
    if duplicate.marketing_opt_out_at and (
        not target.marketing_opt_out_at or duplicate.marketing_opt_out_at > target.marketing_opt_out_at
    ):
        target.marketing_opt_out, target.marketing_opt_out_at = (
            duplicate.marketing_opt_out,
            duplicate.marketing_opt_out_at,
        )
    target.extra = {**duplicate.extra, **target.extra}
    freed = {"wa_id": duplicate.wa_id, "user_id": duplicate.user_id}
    merged_id, merged_label = duplicate.pk, str(duplicate)
    duplicate.delete()
    for name, value in freed.items():
        if value and not getattr(target, name):
            setattr(target, name, value)
    target.save()
    ids = ", ".join(f"{k}={v}" for k, v in freed.items() if v)
    record_change(
        target,
        kind=Kind.MERGED,
        previous=f"Lead #{merged_id} ({merged_label})",
        current=f"Lead #{target.pk}",
        detail=f"{detail} [{ids}]",
        at=at,
        event=event,
    )
    transaction.on_commit(lambda: lead_merged.send(sender=Lead, lead=target, merged_lead_id=merged_id))
    return target


def _unknown(change: IdentityChange, event: WebhookEvent | None) -> AccountEvent:
    from .account import record_notice

    who = change.previous_user_id or change.previous_wa_id
    new = change.new_user_id or change.new_wa_id
    notice = AccountNotice(
        business=change.business,
        field=change.reason,
        event="unknown_user",
        summary=f"Identity change for a user we have no lead for: {who} -> {new}",
        occurred_at=change.timestamp,
        raw=change.raw,
    )
    return record_notice(notice, event=event)


def apply_change(change: IdentityChange, *, event: WebhookEvent | None = None) -> Lead | AccountEvent:
    """Move the lead to its new number or user id, merging a lead that already holds it."""
    old = Q(pk__in=[])
    if change.previous_user_id:
        old |= Q(user_id=change.previous_user_id)
    if change.previous_wa_id:
        old |= Q(wa_id=change.previous_wa_id)
    new = Q(pk__in=[])
    if change.new_user_id:
        new |= Q(user_id=change.new_user_id)
    if change.new_wa_id:
        new |= Q(wa_id=change.new_wa_id)
    lead, holder = _locked(old), _locked(new)
    if lead is None:
        if holder is None:
            return _unknown(change, event)
        lead, holder = holder, None  # already moved (a redelivery): only make sure it is complete
    detail = change.detail or change.reason.replace("_", " ")
    if holder is not None and holder.pk != lead.pk:
        lead = merge_leads(
            lead,
            holder,
            detail=f"{detail}: the new identity had its own lead",
            at=change.timestamp,
            event=event,
        )
    changed: list[str] = []
    for kind, value in ((Kind.WA_ID, change.new_wa_id), (Kind.USER_ID, change.new_user_id)):
        changed += _set_identity(
            lead, kind=kind, value=value, detail=detail, at=change.timestamp, event=event
        )
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
    return lead
