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


def mix_payloads(users: int, *, user_offset: int, block: int = 100) -> list[bytes]:
    """Bodies of ``users`` new ad leads, each followed by four more messages: 1 new lead in 5.

    Per block of ``block`` users the ad clicks come first, then four rounds of follow-ups, so every
    follow-up finds the lead its ad click created (as in real traffic) and is stored in id order.
    """
    from whatsapp_leads.providers.meta.simulation import dumps, inbound

    bodies: list[bytes] = []
    for start in range(user_offset, user_offset + users, block):
        group = range(start, min(start + block, user_offset + users))
        bodies += [bench_payload(n) for n in group]
        for round_ in range(1, 5):
            for n in group:
                wa_id = f"91{n:010d}"
                bodies.append(
                    dumps(
                        inbound(
                            wa_id=wa_id,
                            name=f"Bench {n}",
                            text=f"Follow-up {round_}: what documents do I need?",
                            message_id=f"wamid.HBgM{wa_id}FOLLOW{round_}{n:010d}",
                        )
                    )
                )
    return bodies


def store_bodies(bodies: list[bytes]) -> list[int]:
    """Pending webhook events with these bodies, in this order (ids ascending)."""
    from whatsapp_leads.models import WebhookEvent

    rows = [
        WebhookEvent(provider="meta", body=body, headers={"content-type": "application/json"})
        for body in bodies
    ]
    created = WebhookEvent.objects.bulk_create(rows, batch_size=1000)
    return [row.pk for row in created]


def outbound_messages(count: int, *, user_offset: int) -> list[str]:
    """``count`` sent messages (one per lead of ``count`` bench leads); returns their wamids."""
    from django.utils import timezone

    from whatsapp_leads.models import Conversation, Lead, Message
    from whatsapp_leads.providers.meta.simulation import DISPLAY_NUMBER, PHONE_NUMBER_ID

    now = timezone.now()
    leads = Lead.objects.bulk_create(
        [
            Lead(wa_id=f"92{n:010d}", phone=f"+92{n:010d}", name=f"Status {n}")
            for n in range(user_offset, user_offset + count)
        ],
        batch_size=1000,
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                lead=lead,
                phone_number_id=PHONE_NUMBER_ID,
                display_phone_number=DISPLAY_NUMBER,
                started_at=now,
            )
            for lead in leads
        ],
        batch_size=1000,
    )
    wamids = [f"wamid.HBgMOUT{n:012d}" for n in range(user_offset, user_offset + count)]
    Message.objects.bulk_create(
        [
            Message(
                wamid=wamid,
                conversation=conversation,
                direction=Message.Direction.OUTBOUND,
                type="text",
                text="Here are the documents you need",
                timestamp=now,
                status=Message.Status.PENDING,
            )
            for wamid, conversation in zip(wamids, conversations, strict=True)
        ],
        batch_size=1000,
    )
    return wamids


def status_payloads(wamids: list[str], *, block: int = 500) -> list[bytes]:
    """sent, delivered and read of every message, one status per webhook, in the order Meta sends them."""
    import time

    from whatsapp_leads.providers.meta.simulation import dumps, status_update

    now = int(time.time())
    bodies: list[bytes] = []
    for start in range(0, len(wamids), block):
        group = wamids[start : start + block]
        for offset, state in enumerate(("sent", "delivered", "read")):
            bodies += [dumps(status_update(w, state, timestamp=now + offset)) for w in group]
    return bodies
