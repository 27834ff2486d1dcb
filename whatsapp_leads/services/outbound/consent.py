"""Marketing consent at send time: a lead who stopped marketing messages gets none.

Utility and authentication templates (and service replies) still go: stopping marketing is not
stopping the conversation (Meta answers 131050 only for marketing). A template whose category we
do not know is treated as marketing, so an unknown template never reaches an opted-out lead.
"""

from __future__ import annotations

from ...models import Lead, MessageTemplate


def is_marketing(category: str) -> bool:
    return (category or "").upper() not in {
        MessageTemplate.Category.UTILITY,
        MessageTemplate.Category.AUTHENTICATION,
    }


def may_send(lead: Lead, *, kind: str, category: str = "") -> bool:
    if kind != "template":
        return True
    return not (lead.marketing_opt_out and is_marketing(category))
