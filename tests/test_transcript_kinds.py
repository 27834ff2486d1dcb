"""Issue 3: the admin transcript shows every kind readably: images inline, files as links, replies quoted."""

from __future__ import annotations

import base64
import hashlib
import json

import factory
import pytest
import responses
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from tests.support.delivery import deliver as process_ok
from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory, UserFactory
from tests.support.kinds_support import OUR_WAMID, USER_WA_ID, load, message
from whatsapp_leads.models import Lead, Message
from whatsapp_leads.providers.meta.simulation import PHONE_NUMBER_ID
from whatsapp_leads.services.media import download_media

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.test"
KINDS = [
    "text", "text_reply", "text_forwarded", "text_frequently_forwarded", "product_enquiry", "image", "video",
    "audio", "document", "sticker", "location", "contacts", "interactive_button_reply", "interactive_list_reply",
    "interactive_nfm_reply", "button", "reaction", "reaction_removed", "order", "request_welcome", "unsupported",
    "unknown_type",
]  # fmt: skip


@pytest.fixture
def page(settings, tmp_path) -> str:
    """The lead's admin change page after every kind arrived and the image and document were downloaded."""
    settings.MEDIA_ROOT = tmp_path
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "ACCESS_TOKEN": "test-token",
        "META_GRAPH_URL": GRAPH,
        "META_GRAPH_VERSION": "v25.0",
    }
    users_thread = ConversationFactory(
        lead=LeadFactory(wa_id=USER_WA_ID, name="", first_message_at=None, last_message_at=None),
        phone_number_id=PHONE_NUMBER_ID,
    )
    MessageFactory(
        wamid=OUR_WAMID,
        conversation=users_thread,
        direction=Message.Direction.OUTBOUND,
        status="read",
        text="Our brochure, page 2",
    )
    for name in KINDS:
        process_ok(load(name))
    with responses.RequestsMock() as graph:
        for kind, data, mime in (
            ("image", b"\xff\xd8jpeg\xff\xd9", "image/jpeg"),
            ("document", b"%PDF-1.7", "application/pdf"),
        ):
            row = Message.objects.get(type=kind)
            url = f"https://lookaside.test/{row.media_id}"
            sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
            graph.get(f"{GRAPH}/v25.0/{row.media_id}", json={"url": url, "mime_type": mime, "sha256": sha})
            graph.get(url, body=data)
            assert download_media(row.pk).status == "downloaded"
    admin = UserFactory(username="root", is_superuser=True, password=factory.Transformer.Force("!"))
    client = Client()
    client.force_login(admin)
    lead = Lead.objects.get(wa_id=USER_WA_ID)
    response = client.get(reverse("admin:whatsapp_leads_lead_change", args=[lead.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_every_kind_reads_as_a_line_a_person_understands(page):
    lines = [
        "Hi, is the 2BHK in Baner still available?",
        "[Image] Site photo from the visit",
        "[Video] Walkthrough",
        "[Voice message]",
        "[Document] salary-slip-may.pdf: My salary slip",
        "[Sticker]",
        "[Location] Phoenix Marketcity, Viman Nagar, Pune, Maharashtra 411014 (18.5679, 73.9143)",
        "[Contact] Ravi Kumar (+91 98765 43211, ravi.kumar@example.com)",
        "Book a site visit",
        "50L - 1Cr",
        "[Form reply] full_name: Asha Verma, email: asha.verma@example.com, city: Pune, budget: 50L-1Cr",
        "Unsubscribe",
        "Reacted 👍",
        "Removed a reaction",
        "[Order] 2 item(s): 2 × di9ozbzfi4 at 499.00 INR, 1 × nqryix03ez at 1200 INR · 2198.00 INR · Please deliver by Friday",
        "[Opened the chat]",
        "[Unsupported message: poll_creation] Message type unknown (131051)",
        "[revoke]",
    ]
    missing = [line for line in lines if escape(line) not in page]
    assert missing == []
    for kind in (
        "image",
        "audio",
        "contacts",
        "interactive",
        "reaction",
        "order",
        "request_welcome",
        "revoke",
    ):
        assert f'<span class="wl-kind">{kind}</span>' in page


def private_url(row: Message) -> str:
    return reverse("admin:whatsapp_leads_lead_media", args=[row.conversation.lead_id, row.pk])


def test_images_show_inline_and_other_files_as_links(page):
    image = Message.objects.get(type="image")
    document = Message.objects.get(type="document")

    image_url, document_url = (private_url(m) for m in (image, document))  # media storage is private
    assert f'<img class="wl-media" src="{image_url}" alt="Site photo from the visit">' in page
    assert f'<a class="wl-file" href="{document_url}"' in page
    assert "📎 salary-slip-may.pdf</a>" in page
    assert page.count("File not downloaded yet") == 3  # video, voice note and sticker are still pending


def test_replies_forwards_locations_and_form_answers_are_shown(page):
    assert "In reply to: Our brochure, page 2" in page
    assert "↪ Forwarded</div>" in page
    assert "↪ Forwarded many times</div>" in page
    assert (
        'href="https://www.openstreetmap.org/?mlat=18.5679&amp;mlon=73.9143#map=17/18.5679/73.9143"' in page
    )
    assert "<dt>email</dt><dd>asha.verma@example.com</dd>" in page


def test_form_answers_and_file_names_are_escaped(settings):
    payload = load("interactive_nfm_reply")
    raw = message(payload)
    raw["interactive"]["nfm_reply"]["response_json"] = json.dumps({"note": "<img src=x onerror=alert(1)>"})
    process_ok(payload)
    admin = UserFactory(username="root", is_superuser=True, password=factory.Transformer.Force("!"))
    client = Client()
    client.force_login(admin)

    page = client.get(
        reverse("admin:whatsapp_leads_lead_change", args=[Lead.objects.get().pk])
    ).content.decode()

    assert "<dd>&lt;img src=x onerror=alert(1)&gt;</dd>" in page
    assert "<img src=x onerror" not in page


def test_an_order_shows_its_items_in_the_transcript(superuser):
    from django.test import Client
    from django.urls import reverse

    from tests.support.factories import ConversationFactory, MessageFactory

    details = {
        "items": [{"product_id": "di9ozbzfi4", "quantity": "2", "unit_price": "499.00", "currency": "INR"}]
    }
    message = MessageFactory(
        conversation=ConversationFactory(), type="order", text="[Order]", details=details
    )
    client = Client()
    client.force_login(superuser)
    page = client.get(reverse("admin:whatsapp_leads_lead_change", args=[message.conversation.lead_id]))
    html = page.content.decode()
    assert "<td>di9ozbzfi4</td><td>2</td><td>499.00 INR</td>" in html
