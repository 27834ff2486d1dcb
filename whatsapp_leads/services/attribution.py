"""Click-to-WhatsApp attribution: the referral's ad, and through it the campaign."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from ..models import Ad, Lead
from ..parsing import Referral
from .campaign_sync import look_up_after_commit


def get_ad(referral: Referral) -> Ad | None:
    """The ``Ad`` for the referral's ``source_id``, created on first sight; None for non-ad referrals."""
    if not referral.source_id:
        return None
    defaults = {"headline": referral.headline[:500], "source_url": referral.source_url[:1000]}
    try:
        with transaction.atomic():
            ad, created = Ad.objects.get_or_create(meta_id=referral.source_id[:64], defaults=defaults)
    except IntegrityError:  # a concurrent worker created it first
        ad, created = Ad.objects.get(meta_id=referral.source_id[:64]), False
    if created:  # name, ad set and campaign come from the Marketing API, after the lead commits
        look_up_after_commit(ad.meta_id)
    if not created and referral.headline and not ad.headline:
        Ad.objects.filter(pk=ad.pk).update(**defaults)
    return ad


def attach_first_touch(lead: Lead, referral: Referral, *, at: datetime) -> bool:
    """Record the earliest referral on the lead; True when it became the first touch now.

    "First" is by Meta's time of the message, not by arrival: when a delayed earlier ad click is
    processed after a later one, the earlier click takes over the attribution (ad, click id and
    campaign). The owner is not changed here.
    """
    if lead.referral and (lead.first_touch_at is None or at >= lead.first_touch_at):
        return False
    ad = get_ad(referral)
    lead.referral = referral.raw or {"source_id": referral.source_id}
    lead.first_touch_at = at
    lead.source_ad_id = referral.source_id[:64]
    lead.ctwa_clid = referral.ctwa_clid[:512]
    lead.ad = ad
    if ad is not None and ad.campaign_id:
        lead.campaign_id = ad.campaign_id
    lead.save(
        update_fields=[
            "referral",
            "first_touch_at",
            "source_ad_id",
            "ctwa_clid",
            "ad",
            "campaign",
            "updated_at",
        ]
    )
    return True
