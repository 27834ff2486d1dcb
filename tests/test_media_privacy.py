"""Customers' files are private: stored without a public URL, served only to staff who may see the lead.

Files arrive the real way (a media webhook processed, then the download through a Graph API faked
at the HTTP boundary with ``responses``) and are fetched through the real admin, logged in.
Also here: starting a failed download over from the lead list, and download errors that quote NUL.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
import responses
from django.core.files.storage import default_storage, storages
from django.test import Client
from django.urls import reverse

from tests.support.delivery import deliver as process_ok
from tests.support.factories import ConversationFactory, MessageFactory, UserFactory
from tests.support.kinds_support import USER_WA_ID, load
from tests.support.people import logged_in, staff
from whatsapp_leads.models import Lead, Message
from whatsapp_leads.services.media import download_media
from whatsapp_leads.storage import PRIVATE_DIR

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.test"
TOKEN = "test-whatsapp-access-token"
JPEG = b"\xff\xd8\xff\xe0" + b"site photo " * 50 + b"\xff\xd9"
PDF = b"%PDF-1.7 salary slip for May"


# --- people ------------------------------------------------------------------------------------


# --- files arriving the real way ----------------------------------------------------------------


def sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def graph(settings, tmp_path):
    """A fake Graph API, an access token, and a throwaway MEDIA_ROOT; yields the ``responses`` mock."""
    settings.MEDIA_ROOT = tmp_path
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "ACCESS_TOKEN": TOKEN,
        "META_GRAPH_URL": GRAPH,
        "META_GRAPH_VERSION": "v25.0",
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def serve_from_graph(graph, row: Message, data: bytes, mime: str) -> None:
    """Meta's two answers: the media id gives a short-lived URL, the URL gives the bytes."""
    url = f"https://lookaside.test/whatsapp_business/attachments/?mid={row.media_id}"
    graph.get(f"{GRAPH}/v25.0/{row.media_id}", json={"url": url, "mime_type": mime, "sha256": sha(data)})
    graph.get(url, body=data)


def arrive(graph, payload: dict, data: bytes, mime: str) -> Message:
    """Process a media webhook, then download its file: the message as stored afterwards."""
    process_ok(payload)
    row = Message.objects.order_by("-pk").first()
    assert row is not None, "the webhook stored no message"
    serve_from_graph(graph, row, data, mime)
    assert download_media(row.pk).status == "downloaded"
    row.refresh_from_db()
    return row


@pytest.fixture
def image(graph, rep) -> Message:
    row = arrive(graph, load("image"), JPEG, "image/jpeg")
    Lead.objects.filter(wa_id=USER_WA_ID).update(owner=rep)
    return row


@pytest.fixture
def document(graph, image) -> Message:
    return arrive(graph, load("document"), PDF, "application/pdf")


def file_url(row: Message, *, lead_pk: int | None = None) -> str:
    lead_pk = row.conversation.lead_id if lead_pk is None else lead_pk
    return reverse("admin:whatsapp_leads_lead_media", args=[lead_pk, row.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- storage -----------------------------------------------------------------------------------


def test_a_downloaded_file_lives_in_the_private_directory_and_has_no_public_url(image, tmp_path):
    assert (Path(tmp_path) / PRIVATE_DIR / image.media_file.name).read_bytes() == JPEG
    assert not default_storage.exists(image.media_file.name)
    with pytest.raises(ValueError, match="not accessible via a URL"):
        image.media_file.url  # noqa: B018 (the property is the behaviour under test)


def test_media_storage_setting_names_a_storages_alias(graph, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "whatsapp_media": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "MEDIA_STORAGE": "whatsapp_media"}

    row = arrive(graph, load("image"), JPEG, "image/jpeg")

    with storages["whatsapp_media"].open(row.media_file.name, "rb") as stored:
        assert stored.read() == JPEG
    assert not (Path(settings.MEDIA_ROOT) / PRIVATE_DIR).exists()


# --- who may fetch a file ------------------------------------------------------------------------


def test_the_leads_rep_gets_the_bytes_with_the_stored_type(image, rep):
    response = logged_in(rep).get(file_url(image))

    assert response.status_code == 200
    assert body(response) == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "private" in cache and "public" not in cache


def test_another_rep_gets_404(image, other_rep):
    assert logged_in(other_rep).get(file_url(image)).status_code == 404


def test_anonymous_visitor_is_sent_to_the_login_page(image):
    response = Client().get(file_url(image))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_lead_permissions_gets_404_even_as_owner(image):
    bare = staff(username="no_perms")
    Lead.objects.filter(pk=image.conversation.lead_id).update(owner=bare)

    assert logged_in(bare).get(file_url(image)).status_code == 404


def test_managers_and_superusers_get_any_leads_file(image, manager):
    root = UserFactory(username="root", is_superuser=True)

    for user in (manager, root):
        response = logged_in(user).get(file_url(image))
        assert response.status_code == 200
        assert body(response) == JPEG


def test_a_message_asked_for_under_another_lead_is_404(image, manager):
    other_lead = ConversationFactory().lead

    assert logged_in(manager).get(file_url(image, lead_pk=other_lead.pk)).status_code == 404


def test_a_message_without_a_stored_file_is_404(image, manager):
    pending = MessageFactory(
        conversation=image.conversation, type="video", media_id="99", media_status="pending"
    )

    assert logged_in(manager).get(file_url(pending)).status_code == 404


def test_a_file_gone_from_storage_is_404(image, rep):
    image.media_file.storage.delete(image.media_file.name)

    assert logged_in(rep).get(file_url(image)).status_code == 404


# --- how a file is served -------------------------------------------------------------------------


def test_images_are_shown_inline_and_documents_download_under_their_own_name(image, document, rep):
    client = logged_in(rep)

    shown = client.get(file_url(image))
    saved = client.get(file_url(document))

    assert shown["Content-Disposition"].startswith("inline")
    assert saved["Content-Disposition"] == 'attachment; filename="salary-slip-may.pdf"'
    assert saved["Content-Type"] == "application/pdf"
    assert body(saved) == PDF


def test_an_svg_image_downloads_instead_of_running_in_the_admins_browser(image, rep):
    Message.objects.filter(pk=image.pk).update(media_mime_type="image/svg+xml")

    response = logged_in(rep).get(file_url(image))

    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_name_with_line_breaks_cannot_split_the_headers(graph, rep):
    payload = load("document")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["document"]["filename"] = (
        "slip.pdf\r\nSet-Cookie: sessionid=stolen"
    )
    row = arrive(graph, payload, PDF, "application/pdf")
    Lead.objects.filter(pk=row.conversation.lead_id).update(owner=rep)

    response = logged_in(rep).get(file_url(row))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="slip.pdfSet-Cookie: sessionid=stolen"'
    assert "sessionid" not in response.cookies


def test_the_transcript_links_files_through_the_private_url_only(image, document, rep):
    lead = Lead.objects.get(wa_id=USER_WA_ID)

    page = logged_in(rep).get(reverse("admin:whatsapp_leads_lead_change", args=[lead.pk])).content.decode()

    assert f'<img class="wl-media" src="{file_url(image)}"' in page
    assert f'<a class="wl-file" href="{file_url(document)}"' in page
    assert '="/media/' not in page  # nothing points into MEDIA_URL
    assert image.media_file.name not in page and document.media_file.name not in page


# --- starting a failed download over ---------------------------------------------------------------


@pytest.fixture
def failed_image(graph, rep) -> Message:
    """An image whose download failed for good (Meta did not know the media id at the time)."""
    process_ok(load("image"))
    row = Message.objects.get(type="image")
    Lead.objects.filter(pk=row.conversation.lead_id).update(owner=rep)
    graph.get(
        f"{GRAPH}/v25.0/{row.media_id}",
        status=400,
        json={"error": {"message": "Unsupported get request.", "type": "GraphMethodException", "code": 100}},
    )
    assert download_media(row.pk).status == "failed"
    graph.reset()
    return row


def redownload(client: Client, lead_pk: int):
    return client.post(
        reverse("admin:whatsapp_leads_lead_changelist"),
        {"action": "redownload_media", "_selected_action": [lead_pk]},
    )


def test_redownload_action_queues_the_failed_file_and_the_task_stores_it(
    failed_image, graph, rep, broker, django_capture_on_commit_callbacks
):
    from whatsapp_leads.tasks import download_message_media

    with django_capture_on_commit_callbacks(execute=True):
        response = redownload(logged_in(rep), failed_image.conversation.lead_id)

    assert response.status_code == 302
    assert broker() == [("whatsapp_leads.download_message_media", (failed_image.pk,))]
    failed_image.refresh_from_db()
    assert (failed_image.media_status, failed_image.media_attempts, failed_image.media_error) == (
        Message.MediaStatus.PENDING,
        0,
        "",
    )

    serve_from_graph(graph, failed_image, JPEG, "image/jpeg")
    assert download_message_media.apply(args=(failed_image.pk,)).result == "downloaded"

    failed_image.refresh_from_db()
    assert failed_image.media_status == Message.MediaStatus.DOWNLOADED
    with failed_image.media_file.storage.open(failed_image.media_file.name, "rb") as stored:
        assert stored.read() == JPEG
    assert body(logged_in(rep).get(file_url(failed_image))) == JPEG


def test_a_rep_cannot_restart_downloads_of_someone_elses_lead(
    failed_image, other_rep, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        redownload(logged_in(other_rep), failed_image.conversation.lead_id)

    assert broker() == []
    failed_image.refresh_from_db()
    assert failed_image.media_status == Message.MediaStatus.FAILED


def test_redownload_leaves_downloaded_files_alone(image, rep, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        redownload(logged_in(rep), image.conversation.lead_id)

    assert broker() == []
    image.refresh_from_db()
    assert image.media_status == Message.MediaStatus.DOWNLOADED


# --- NUL in what Meta sends back -------------------------------------------------------------------


def test_a_graph_error_quoting_nul_is_recorded_instead_of_crashing_the_task(graph):
    process_ok(load("image"))
    row = Message.objects.get(type="image")
    graph.get(
        f"{GRAPH}/v25.0/{row.media_id}",
        status=400,
        json={"error": {"message": "Object 'abc\u0000def' does not exist", "code": 100}},
    )

    assert download_media(row.pk).status == "failed"

    row.refresh_from_db()
    assert row.media_status == Message.MediaStatus.FAILED
    assert "abc\ufffddef" in row.media_error
