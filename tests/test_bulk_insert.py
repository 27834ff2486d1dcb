"""``bulk_insert.insert_rows`` writes what ``save()`` would, file fields included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile

from tests.support.factories import LeadFactory
from whatsapp_leads.models import Conversation, Message
from whatsapp_leads.services.bulk_insert import insert_rows

pytestmark = pytest.mark.django_db

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_file_field_writes_its_stored_name_and_commits_a_file_assigned(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    thread = Conversation.objects.create(lead=LeadFactory(), phone_number_id="111")
    empty = Message(wamid="wamid.F1", conversation=thread, timestamp=AT)
    named = Message(
        wamid="wamid.F2", conversation=thread, timestamp=AT, media_file="whatsapp_leads/media/a.pdf"
    )
    fresh = Message(wamid="wamid.F3", conversation=thread, timestamp=AT)
    fresh.media_file = ContentFile(b"%PDF-1.4", name="slip.pdf")  # not committed: saved by the INSERT
    insert_rows([empty, named, fresh])
    stored = dict(Message.objects.filter(conversation=thread).values_list("wamid", "media_file"))
    assert stored["wamid.F1"] == ""
    assert stored["wamid.F2"] == "whatsapp_leads/media/a.pdf"
    assert stored["wamid.F3"].startswith("whatsapp_leads/media/") and stored["wamid.F3"].endswith(".pdf")
    with fresh.media_file.storage.open(stored["wamid.F3"], "rb") as handle:
        assert handle.read() == b"%PDF-1.4"
