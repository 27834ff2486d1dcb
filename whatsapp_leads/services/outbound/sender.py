"""Which provider and business number start a conversation that we open (the customer has not written).

A reply goes back through the thread the customer wrote in (``Conversation.provider`` and its
number, recorded by the inbound path). Only a send to a lead with no thread at all (a template to
a lead entered by hand or imported, say) needs a choice: the lead's campaign's ``provider`` and
``business_number`` (``Campaign``, validated in its ``clean``), else the default provider and its
default number. A campaign naming a provider that is no longer enabled falls back to the default,
with a warning in the log, rather than failing every send.
"""

from __future__ import annotations

import logging

from ...models import Lead
from ...parsing import Business
from ...providers.registry import DEFAULT_PROVIDER, all_providers, get_provider

logger = logging.getLogger(__name__)


def starting_business(lead: Lead) -> Business:
    """Our side of a new conversation with ``lead``: the campaign's provider and number, else the default."""
    campaign = lead.campaign
    name = (campaign.provider if campaign is not None else "").strip() or DEFAULT_PROVIDER
    number = (campaign.business_number if campaign is not None else "").strip()
    if name not in all_providers():
        logger.warning(
            "campaign %s names provider %r, which is not enabled: starting the conversation with %r",
            getattr(campaign, "pk", None), name, DEFAULT_PROVIDER,
        )  # fmt: skip
        name, number = DEFAULT_PROVIDER, ""
    provider = get_provider(name)
    if number:
        try:
            number = provider.sender_id(number)
        except ValueError:  # saved before validation existed; the provider's default is safer
            logger.warning("campaign %s: %r is not a %s number; using the default", campaign, number, name)
            number = ""
    return Business(provider=name, phone_number_id=number or provider.default_sender())


def sender_of(provider_name: str, phone_number_id: str) -> str:
    """The number a send goes from: the conversation's own, else its provider's default."""
    if phone_number_id:
        return phone_number_id
    try:
        return get_provider(provider_name or DEFAULT_PROVIDER).default_sender()
    except LookupError:
        return ""
