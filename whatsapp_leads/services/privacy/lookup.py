"""Finding the lead(s) of a person from what a data principal's request gives: a number or an id.

A request names a phone number ("+91 98765 43210", "098765 43210"), a WhatsApp id or a
business-scoped user id; the person may have changed number since, so the lead's history is
searched for old identities too.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ...models import Lead, LeadHistory
from ..phones import to_e164


def find_person(
    *, phone: str = "", wa_id: str = "", user_id: str = "", lead_id: int | None = None
) -> QuerySet[Lead]:
    """Leads (not erased) matching any of the given identities, now or in their history."""
    query = Q(pk__in=[])
    history = Q(pk__in=[])
    if lead_id is not None:
        query |= Q(pk=lead_id)
    digits = ""
    if phone:
        e164 = to_e164(phone) or phone.strip()
        digits = e164.lstrip("+")
        query |= Q(phone=e164) | Q(wa_id=digits)
        history |= Q(kind__in=[LeadHistory.Kind.PHONE, LeadHistory.Kind.WA_ID], previous__in=[e164, digits])
    if wa_id:
        query |= Q(wa_id=wa_id.strip())
        history |= Q(kind=LeadHistory.Kind.WA_ID, previous=wa_id.strip())
    if user_id:
        query |= Q(user_id=user_id.strip())
        history |= Q(kind=LeadHistory.Kind.USER_ID, previous=user_id.strip())
    query |= Q(pk__in=LeadHistory.objects.filter(history).values("lead_id"))
    return Lead.objects.filter(query, erased_at__isnull=True).order_by("pk")
