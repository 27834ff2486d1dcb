"""The fixed facts tests share: Meta's sample times and the ad the payloads come from.

One definition each, so a test that says ``T0`` or ``AD_ID`` means the same instant and the same
ad everywhere.
"""

from __future__ import annotations

from whatsapp_leads.models import Campaign

from .factories import AdFactory, CampaignFactory, CampaignMemberFactory

# Meta's sample timestamp (2025-06-08 20:59:43 UTC); messages in tests are spaced from it.
T0 = 1749416383
# The Click-to-WhatsApp ad id of the simulator's default referral.
AD_ID = "120226305854810726"


def campaign_with_team(name: str = "Home loans", *, reps: int = 3, ad_id: str = AD_ID) -> Campaign:
    """A campaign with ``reps`` active members and the ad ``ad_id`` pointing at it."""
    campaign = CampaignFactory(name=name)
    for _ in range(reps):
        CampaignMemberFactory(campaign=campaign)
    AdFactory(meta_id=ad_id, campaign=campaign)
    return campaign
