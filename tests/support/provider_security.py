"""The security contract every provider's webhook keeps, as one abstract test case.

A provider's test module subclasses ``ProviderSecurityCases`` (named ``Test...``) and fills in how
its requests are signed; the same refusals are then proven for every provider: a missing
signature is 401, a wrong one 403, an oversized body 413, and none of them stores anything or
runs a single query. A correctly signed request is stored as exactly one row under the
provider's name, and signed garbage is stored, then failed with its reason (never a 500).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.test import Client
from django.urls import reverse

from whatsapp_leads.conf import app_settings
from whatsapp_leads.models import WebhookEvent
from whatsapp_leads.services.processing import process_event


class ProviderSecurityCases:
    """Subclass as ``class TestXProviderSecurity(ProviderSecurityCases)`` and define the hooks."""

    #: The provider's name in PROVIDERS (its webhook is /whatsapp/webhook/<name>/).
    provider: ClassVar[str] = ""
    content_type: ClassVar[str] = "application/json"

    # --- hooks a provider's tests define ---------------------------------------------------------

    def valid_body(self) -> bytes:
        """A real-shaped request body of the provider (one inbound message)."""
        raise NotImplementedError

    def signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        """Headers (Django test client ``HTTP_*`` form) that sign ``body`` correctly."""
        raise NotImplementedError

    def wrongly_signed_headers(self, body: bytes, *, url: str) -> dict[str, str]:
        """Headers whose signature does not match ``body`` under any configured secret."""
        raise NotImplementedError

    def garbage_body(self) -> bytes:
        """Signed bytes the provider's parser can never turn into updates."""
        return b"\xff\xfe not a webhook at all"

    # --- the shared cases ------------------------------------------------------------------------

    @pytest.fixture
    def url(self) -> str:
        return reverse("whatsapp_leads:provider_webhook", kwargs={"provider": self.provider})

    def _post(self, client: Client, url: str, body: bytes, headers: dict[str, str]) -> Any:
        return client.generic("POST", url, body, content_type=self.content_type, **headers)  # type: ignore[arg-type]  # HTTP_* extras

    @pytest.mark.django_db
    def test_missing_signature_is_401_and_nothing_is_stored(self, client, url, django_assert_num_queries):
        with django_assert_num_queries(0):
            response = self._post(client, url, self.valid_body(), {})
        assert response.status_code == 401
        assert WebhookEvent.objects.count() == 0

    @pytest.mark.django_db
    def test_wrong_signature_is_403_and_nothing_is_stored(self, client, url, django_assert_num_queries):
        body = self.valid_body()
        with django_assert_num_queries(0):
            response = self._post(client, url, body, self.wrongly_signed_headers(body, url=url))
        assert response.status_code == 403
        assert WebhookEvent.objects.count() == 0

    @pytest.mark.django_db
    def test_signature_of_another_body_is_403(self, client, url):
        signed = self.signed_headers(self.valid_body(), url=url)
        response = self._post(client, url, self.valid_body() + b" ", signed)
        assert response.status_code == 403
        assert WebhookEvent.objects.count() == 0

    @pytest.mark.django_db
    def test_oversized_body_is_413_and_nothing_is_stored(self, client, url, django_assert_num_queries):
        body = b"x" * (app_settings.MAX_BODY_BYTES + 1)
        with django_assert_num_queries(0):
            response = self._post(client, url, body, self.signed_headers(body, url=url))
        assert response.status_code == 413
        assert WebhookEvent.objects.count() == 0

    @pytest.mark.django_db
    def test_signed_request_is_stored_in_one_query_under_the_providers_name(
        self, client, url, broker, django_assert_num_queries, django_capture_on_commit_callbacks
    ):
        body = self.valid_body()
        with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
            response = self._post(client, url, body, self.signed_headers(body, url=url))
        assert response.status_code == 200
        event = WebhookEvent.objects.get()
        assert (event.provider, event.body_bytes, event.status) == (self.provider, body, "pending")
        assert broker() == [("whatsapp_leads.process_webhook_event", (event.pk,))]

    @pytest.mark.django_db
    def test_signed_garbage_is_stored_then_failed_with_its_reason(self, client, url):
        body = self.garbage_body()
        response = self._post(client, url, body, self.signed_headers(body, url=url))
        assert response.status_code == 200
        event = WebhookEvent.objects.get()
        outcome = process_event(event.pk)
        event.refresh_from_db()
        assert (outcome.status, event.status) == ("failed", "failed")
        assert event.error
        assert event.next_attempt_at is None  # the same bytes will never parse: not retried
