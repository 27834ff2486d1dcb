"""Click-to-WhatsApp attribution: the referral's ad, and through it the campaign."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction

from ..models import Ad, Lead
from ..parsing import Referral
from .campaign_sync import look_up_after_commit
from .fitting import exact, fitted


def get_ad(referral: Referral, *, known: Mapping[str, Ad] | None = None) -> Ad | None:
    """The ``Ad`` for the referral's ``source_id``, created on first sight; None for non-ad referrals.

    ``known``: ads already read by meta id in this transaction (``new_lead_batch``: one query for
    a batch), used instead of a lookup of its own.
    """
    if not referral.source_id:
        return None
    meta_id = exact(Ad, "meta_id", referral.source_id, label="ad id (referral source_id)")
    defaults = fitted(Ad, headline=referral.headline, source_url=referral.source_url)
    # Nearly every click names a known ad: look first, so only a first sighting pays the savepoint.
    ad = known.get(meta_id) if known is not None else None
    ad, created = ad or Ad.objects.filter(meta_id=meta_id).first(), False
    if ad is None:
        try:
            with transaction.atomic():
                ad, created = Ad.objects.get_or_create(meta_id=meta_id, defaults=defaults)
        except IntegrityError:  # a concurrent worker created it first
            ad, created = Ad.objects.get(meta_id=meta_id), False
    if created:  # name, ad set and campaign come from the Marketing API, after the lead commits
        look_up_after_commit(ad.meta_id)
    if not created and referral.headline and not ad.headline:
        Ad.objects.filter(pk=ad.pk).update(**defaults)
    return ad


def attach_first_touch(
    lead: Lead,
    referral: Referral,
    *,
    at: datetime,
    pending: list[str] | None = None,
    known_ads: Mapping[str, Ad] | None = None,
) -> bool:
    """Record the earliest referral on the lead; True when it became the first touch now.

    "First" is by Meta's time of the message, not by arrival: when a delayed earlier ad click is
    processed after a later one, the earlier click takes over the attribution (ad, click id and
    campaign). The owner is not changed here. With ``pending`` the changed fields are added to
    it and the caller saves them with the rest of the lead's changes (one UPDATE, not several).
    """
    if lead.referral and (lead.first_touch_at is None or at >= lead.first_touch_at):
        return False
    source_ad_id = exact(Lead, "source_ad_id", referral.source_id, label="ad id (referral source_id)")
    ctwa_clid = exact(Lead, "ctwa_clid", referral.ctwa_clid, label="click id (ctwa_clid)")
    ad = get_ad(referral, known=known_ads)
    lead.referral = referral.raw or {"source_id": referral.source_id}
    lead.first_touch_at = at
    lead.source_ad_id, lead.ctwa_clid = source_ad_id, ctwa_clid
    lead.ad = ad
    if ad is not None and ad.campaign_id:
        lead.campaign_id = ad.campaign_id
    fields = ["referral", "first_touch_at", "source_ad_id", "ctwa_clid", "ad", "campaign"]
    if pending is not None:
        pending += fields
    else:
        lead.save(update_fields=[*fields, "updated_at"])
    return True
