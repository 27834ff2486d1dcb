"""Everything that identifies one person in our rows and in the raw webhook bodies.

A lead's ids change over time (new numbers, new business-scoped ids, merges), and the raw bodies
still hold the old ones, so the set is gathered from the lead, its history and its messages:
WhatsApp ids and phone numbers (with and without the +), business-scoped user ids, usernames,
and the ids of its messages (which status updates and replies quote).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...models import Lead, LeadHistory, Message

# Shorter strings match too much unrelated text to be searched for on their own.
MIN_LENGTH = 5

IDENTITY_KINDS = (
    LeadHistory.Kind.WA_ID,
    LeadHistory.Kind.USER_ID,
    LeadHistory.Kind.PHONE,
    LeadHistory.Kind.USERNAME,
)
# A merge records the duplicate's ids in its detail: "... [wa_id=9198..., user_id=IN.12...]".
MERGED_IDS = re.compile(r"(?:wa_id|user_id)=([^,\]\s]+)")


@dataclass(slots=True)
class Identities:
    """The person's ids (searched everywhere), message ids (searched in bodies) and names."""

    ids: set[str] = field(default_factory=set)
    wamids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add_id(self, value: str | None) -> None:
        value = (value or "").strip()
        if len(value) >= MIN_LENGTH:
            self.ids.add(value)
            if value.startswith("+"):
                self.ids.add(value[1:])

    def add_name(self, value: str | None) -> None:
        """Names are only cut out of rows and bodies that quote the ids; short ones not even there."""
        value = (value or "").strip()
        if len(value) >= MIN_LENGTH:
            self.names.add(value)

    @property
    def everything(self) -> set[str]:
        """What a raw body is searched for."""
        return self.ids | self.wamids


def identities_of(lead: Lead) -> Identities:
    found = Identities()
    for value in (lead.wa_id, lead.user_id, lead.phone, lead.username):
        found.add_id(value)
    found.add_name(lead.name)
    for kind, previous, current, detail in LeadHistory.objects.filter(lead=lead).values_list(
        "kind", "previous", "current", "detail"
    ):
        if kind in IDENTITY_KINDS:
            found.add_id(previous)
            found.add_id(current)
        elif kind == LeadHistory.Kind.NAME:
            found.add_name(previous)
            found.add_name(current)
        elif kind == LeadHistory.Kind.MERGED:
            for value in MERGED_IDS.findall(detail):
                found.add_id(value)
    found.wamids.update(
        w for w in Message.objects.filter(conversation__lead=lead).values_list("wamid", flat=True) if w
    )
    return found
