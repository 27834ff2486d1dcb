"""Rows the bench needs, written through the ORM of the bench process (Django set up on wl_bench)."""

from __future__ import annotations

from .http_load import AD_ID, bench_payload


def campaign_with_reps(reps: int = 3) -> None:
    """The campaign every bench lead comes from, with ``reps`` active members taking turns."""
    from django.contrib.auth import get_user_model

    from whatsapp_leads.models import Ad, Campaign, CampaignMember

    User = get_user_model()
    campaign = Campaign.objects.create(meta_id="120226305854800001", name="Bench campaign")
    for n in range(reps):
        user = User.objects.create_user(username=f"bench-rep-{n}", is_staff=True)
        CampaignMember.objects.create(campaign=campaign, user=user)
    Ad.objects.create(meta_id=AD_ID, campaign=campaign, name="Bench ad")


def store_events(count: int, *, user_offset: int) -> list[int]:
    """``count`` pending webhook events, one ad-click message from a distinct user each."""
    from whatsapp_leads.models import WebhookEvent

    rows = [
        WebhookEvent(
            provider="meta",
            body=bench_payload(n),
            headers={"content-type": "application/json"},
        )
        for n in range(user_offset, user_offset + count)
    ]
    created = WebhookEvent.objects.bulk_create(rows, batch_size=500)
    return [row.pk for row in created]
