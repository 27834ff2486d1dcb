"""A campaign's automatic greeting: once per new lead, within seconds of its first message.

Called while the first message is processed (the lead is locked), it queues the campaign's
``welcome_template`` (a body-only approved template; ``{{1}}`` is the lead's name) or else its
``welcome_text`` through the outbox, so it is recorded, rate-limited and retried like any send and
goes out when that transaction commits. Never to a lead who stopped marketing messages, and never
twice: a lead that already has a greeting gets none, whatever re-processing happens.
"""

from __future__ import annotations

import logging

from ...models import Lead, Message
from .outbox import queue_send
from .refusal import Refusal

logger = logging.getLogger(__name__)
ORIGIN = "greeting"


def greet_new_lead(lead: Lead) -> Message | None:
    """Queue the greeting of the lead's campaign; None when there is none to send (or a rule refused it)."""
    campaign = lead.campaign
    if campaign is None or lead.marketing_opt_out:
        return None
    template = campaign.welcome_template
    text = (campaign.welcome_text or "").strip()
    if template is None and not text:
        return None
    if Message.objects.filter(conversation__lead=lead, origin=ORIGIN).exists():
        return None
    if template is not None and template.approved:
        content = {"name": template.name, "language": template.language,
                   "parameters": [lead.name or "there"] if template.parameters else []}  # fmt: skip
        result = queue_send(lead, kind="template", content=content, origin=ORIGIN)
    elif text:
        result = queue_send(lead, kind="text", content={"body": text}, origin=ORIGIN)
    else:
        return None
    if isinstance(result, Refusal):
        logger.info("no greeting for lead %s: %s", lead.pk, result.words)
        return None
    return result
