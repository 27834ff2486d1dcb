"""Issue 3: media files are fetched through the Graph API (id -> URL -> bytes) into Django's storage.

Meta's Graph API is faked at the HTTP boundary with ``responses``; the storage, the database and
our client are real.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
import responses
from django.core.files.storage import FileSystemStorage

from tests.support.delivery import deliver as process_ok
from tests.support.kinds_support import load, message
from whatsapp_leads.models import Lead, Message
from whatsapp_leads.services.media import download_media

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.test"
TOKEN = "test-whatsapp-access-token"
MEDIA_ID = "1003383421387256"
LOOKUP = f"{GRAPH}/v25.0/{MEDIA_ID}"
FILE_URL = f"https://lookaside.test/whatsapp_business/attachments/?mid={MEDIA_ID}&ext=1749417000&hash=ATuX"
JPEG = b"\xff\xd8\xff\xe0" + b"site photo bytes " * 200 + b"\xff\xd9"
EXPIRED_TOKEN = {
    "error": {
        "message": "Error validating access token: Session has expired on Tuesday, 10-Jun-25 10:00:00 PDT.",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 463,
        "fbtrace_id": "AbCdEfGh123",
    }
}
UNKNOWN_MEDIA = {
    "error": {
        "message": f"Unsupported get request. Object with ID '{MEDIA_ID}' does not exist.",
        "type": "GraphMethodException",
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "AbCdEfGh456",
    }
}


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def location(data: bytes = JPEG, **changes) -> dict:
    """Meta's answer to GET /{version}/{media_id}."""
    body = {
        "messaging_product": "whatsapp",
        "url": FILE_URL,
        "mime_type": "image/jpeg",
        "sha256": b64sha(data),
        "file_size": len(data),
        "id": MEDIA_ID,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def graph(settings, tmp_path):
    """Point the app at a fake Graph API and a throwaway media root."""
    settings.MEDIA_ROOT = tmp_path
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "ACCESS_TOKEN": TOKEN,
        "META_GRAPH_URL": GRAPH,
        "META_GRAPH_VERSION": "v25.0",
        "MEDIA_MAX_BYTES": 64 * 1024,
        "MEDIA_MAX_ATTEMPTS": 3,
        "MEDIA_RETRY_BACKOFF_SECONDS": 60,
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def image() -> Message:
    payload = load("image")
    process_ok(payload)
    return Message.objects.get(wamid=message(payload)["id"])


def test_storing_a_media_message_makes_no_graph_call_and_leaves_it_pending(graph):
    payload = load("image")
    process_ok(payload)  # any HTTP call here would fail: nothing is registered on the fake

    assert len(graph.calls) == 0
    assert Message.objects.get().media_status == Message.MediaStatus.PENDING
    assert Lead.objects.count() == 1


def test_file_is_fetched_by_id_then_url_with_the_token_and_stored(graph, image):
    graph.get(LOOKUP, json=location())
    graph.get(FILE_URL, body=JPEG, content_type="image/jpeg")

    assert download_media(image.pk).status == "downloaded"

    image.refresh_from_db()
    assert image.media_status == Message.MediaStatus.DOWNLOADED
    assert image.media_size == len(JPEG)
    assert image.media_error == ""
    assert image.media_downloaded_at is not None
    assert image.media_file.name.startswith("whatsapp_leads/media/")
    assert image.media_file.name.endswith(".jpg")
    with image.media_file.storage.open(image.media_file.name, "rb") as stored:  # the private storage
        assert stored.read() == JPEG
    assert [call.request.headers["Authorization"] for call in graph.calls] == [f"Bearer {TOKEN}"] * 2


def test_document_keeps_its_file_name_in_storage(graph):
    payload = load("document")
    process_ok(payload)
    row = Message.objects.get()
    pdf = b"%PDF-1.7 salary slip"
    graph.get(f"{GRAPH}/v25.0/{row.media_id}", json=location(pdf, mime_type="application/pdf"))
    graph.get(FILE_URL, body=pdf)

    download_media(row.pk)

    row.refresh_from_db()
    assert row.media_file.name.endswith("salary-slip-may.pdf")


def test_download_is_published_on_commit_and_done_by_the_task(
    graph, broker, django_capture_on_commit_callbacks
):
    from whatsapp_leads.tasks import download_message_media

    graph.get(LOOKUP, json=location())
    graph.get(FILE_URL, body=JPEG)
    with django_capture_on_commit_callbacks(execute=True):
        process_ok(load("image"))

    row = Message.objects.get()
    assert broker() == [("whatsapp_leads.download_message_media", (row.pk,))]
    assert download_message_media.apply(args=(row.pk,)).result == "downloaded"
    row.refresh_from_db()
    assert (row.media_status, row.media_attempts) == (Message.MediaStatus.DOWNLOADED, 1)


def test_a_checksum_mismatch_is_retried_with_backoff_and_recorded(graph, image):
    graph.get(LOOKUP, json=location())
    graph.get(FILE_URL, body=b"truncated")

    outcome = download_media(image.pk)

    assert (outcome.status, outcome.retry_in) == ("retrying", 60)
    image.refresh_from_db()
    assert image.media_status == Message.MediaStatus.PENDING
    assert image.media_error == "Attempt 1: the downloaded file does not match Meta's SHA-256"
    assert not image.media_file


def test_transient_failures_back_off_and_give_up_after_the_last_attempt(graph, image):
    graph.get(
        LOOKUP,
        status=500,
        json={"error": {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True}},
    )

    outcomes = [download_media(image.pk) for _ in range(3)]

    assert [o.retry_in for o in outcomes] == [60, 120, None]
    image.refresh_from_db()
    assert (image.media_status, image.media_attempts) == (Message.MediaStatus.FAILED, 3)
    assert image.media_error.startswith("Attempt 3: media lookup failed")
    assert download_media(image.pk).status == "skipped"


def test_unknown_media_id_fails_at_once(graph, image):
    graph.get(LOOKUP, status=400, json=UNKNOWN_MEDIA)

    assert download_media(image.pk).status == "failed"

    image.refresh_from_db()
    assert image.media_status == Message.MediaStatus.FAILED
    assert "does not exist" in image.media_error


def test_media_gone_with_a_bare_404_fails_at_once(graph, image):
    graph.get(LOOKUP, status=404, body="Not Found")

    assert download_media(image.pk).status == "failed"
    image.refresh_from_db()
    assert "HTTP 404" in image.media_error


def test_expired_token_fails_without_retry_and_without_leaking_the_token(graph, image):
    graph.get(LOOKUP, status=401, json=EXPIRED_TOKEN)

    outcome = download_media(image.pk)

    assert (outcome.status, outcome.retry_in) == ("failed", None)
    image.refresh_from_db()
    assert "190" in image.media_error and "Session has expired" in image.media_error
    assert TOKEN not in image.media_error


def test_a_download_url_that_lapsed_is_retried_for_a_fresh_one(graph, image):
    graph.get(LOOKUP, json=location())
    graph.get(FILE_URL, status=404)

    outcome = download_media(image.pk)

    assert outcome.status == "retrying"
    image.refresh_from_db()
    assert image.media_error == "Attempt 1: media download failed with HTTP 404"


def test_a_file_declared_larger_than_the_limit_is_refused_before_download(graph, image):
    graph.get(LOOKUP, json=location(file_size=64 * 1024 + 1))

    assert download_media(image.pk).status == "failed"

    image.refresh_from_db()
    assert "larger than MEDIA_MAX_BYTES (65536 bytes)" in image.media_error
    assert [call.request.url for call in graph.calls] == [LOOKUP]


def test_a_body_larger_than_the_limit_is_cut_off_and_nothing_is_stored(graph, image, tmp_path):
    huge = b"x" * (64 * 1024 + 10)
    graph.get(LOOKUP, json=location(huge, file_size=None))
    graph.get(FILE_URL, body=huge)

    assert download_media(image.pk).status == "failed"

    image.refresh_from_db()
    assert image.media_status == Message.MediaStatus.FAILED
    assert "larger than MEDIA_MAX_BYTES" in image.media_error
    assert not image.media_file
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_without_an_access_token_the_download_fails_naming_the_setting(graph, settings, image):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "ACCESS_TOKEN": ""}

    assert download_media(image.pk).status == "failed"
    image.refresh_from_db()
    assert "WHATSAPP_ACCESS_TOKEN" in image.media_error
    assert len(graph.calls) == 0


def test_the_sweep_requeues_downloads_whose_publish_was_lost_but_not_ones_already_tried(graph, broker):
    from whatsapp_leads.services.media import requeue_unstarted

    process_ok(load("image"))  # its on-commit publish never ran: as if the broker had been down
    process_ok(load("video"))
    tried = Message.objects.get(type="video")
    Message.objects.filter(pk=tried.pk).update(media_attempts=1)

    assert requeue_unstarted(older_than_seconds=0) == 1

    assert broker() == [("whatsapp_leads.download_message_media", (Message.objects.get(type="image").pk,))]


class FullDiskStorage(FileSystemStorage):
    """A storage that fails as a full disk does: the host-swappable MEDIA_STORAGE, not a mock."""

    def _save(self, name, content):
        raise OSError(28, "No space left on device")


def test_a_storage_failure_is_retried_then_recorded_never_left_stuck(graph, image, settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "MEDIA_STORAGE": "tests.test_media.FullDiskStorage"}
    graph.get(LOOKUP, json=location())
    graph.get(FILE_URL, body=JPEG, content_type="image/jpeg")

    first = download_media(image.pk)
    image.refresh_from_db()
    assert first.retry_in is not None
    assert image.media_status == Message.MediaStatus.PENDING
    assert "No space left on device" in image.media_error

    download_media(image.pk)
    last = download_media(image.pk)  # MEDIA_MAX_ATTEMPTS is 3 in this module
    image.refresh_from_db()
    assert (last.status, last.retry_in) == ("failed", None)
    assert image.media_status == Message.MediaStatus.FAILED
    assert image.media_attempts == 3
