"""The REST API's OpenAPI schema and its two readers, as a client developer fetches them."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import URLPattern, reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from whatsapp_leads.api.urls import router

pytestmark = pytest.mark.django_db

URL_IN_PAGE = re.compile(r"""(?:src|href|url)\s*[=:]\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.fixture
def schema() -> dict:
    response = APIClient().get(reverse("whatsapp_leads:api-schema"), {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_urls_live_in_the_apps_namespace():
    assert reverse("whatsapp_leads:api-schema") == "/whatsapp/api/schema/"
    assert reverse("whatsapp_leads:api-swagger") == "/whatsapp/api/schema/swagger/"
    assert reverse("whatsapp_leads:api-redoc") == "/whatsapp/api/schema/redoc/"


def test_the_served_schema_is_valid_openapi_3(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "whatsapp_leads REST API"


def test_the_schema_is_yaml_by_default_for_tools_that_ask_for_nothing():
    response = APIClient().get(reverse("whatsapp_leads:api-schema"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


def test_schema_generation_has_no_warning(tmp_path: Path):
    out = tmp_path / "schema.yaml"

    # --fail-on-warn turns any guess drf-spectacular had to make into an error (exit status)
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=StringIO())

    assert "/whatsapp/api/leads/{id}/messages/" in out.read_text()


def router_paths() -> set[str]:
    """Every route of the API router as an OpenAPI path ({id}), without format suffixes or the root."""
    paths = set()
    for pattern in router.urls:
        assert isinstance(pattern, URLPattern)
        groups = pattern.pattern.regex.groupindex
        if "format" in groups or pattern.name == "api-root":
            continue
        kwargs = {"pk": "ID"} if "pk" in groups else {}
        paths.add(unquote(reverse(f"whatsapp_leads:{pattern.name}", kwargs=kwargs)).replace("ID", "{id}"))
    return paths


def test_the_schema_lists_every_router_path_and_nothing_else(schema):
    assert set(schema["paths"]) == router_paths()
    assert "/whatsapp/api/leads/{id}/assignments/" in schema["paths"]  # the enumeration is not empty


def test_every_operation_documents_its_error_answers(schema):
    operations = {
        (path, method): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "patch", "put", "post", "delete")
    }

    assert len(operations) == 11
    assert ("/whatsapp/api/leads/{id}/", "delete") in operations  # the erasure
    for (path, method), operation in operations.items():
        answers = operation["responses"]
        success = "202" if (path, method) == ("/whatsapp/api/leads/{id}/messages/", "post") else "200"
        assert {success, "401", "403", "404"} <= set(answers), (path, method)
        for code in ("401", "403", "404"):
            assert answers[code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
    lead_list = operations[("/whatsapp/api/leads/", "get")]["responses"]["400"]
    assert lead_list["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LeadFilterError"
    }
    assert "400" in operations[("/whatsapp/api/leads/{id}/", "patch")]["responses"]
    send = operations[("/whatsapp/api/leads/{id}/messages/", "post")]
    assert {"400", "409"} <= set(send["responses"])
    # one of the two shapes, and a body there must be: `{}` or no body is not a valid send
    assert send["requestBody"]["required"] is True
    body = schema["components"]["schemas"]["SendBody"]
    assert [option["$ref"].rsplit("/", 1)[-1] for option in body["oneOf"]] == [
        "TextSendBody",
        "TemplateSendBody",
    ]
    assert "400" in operations[("/whatsapp/api/campaigns/{id}/numbers/", "get")]["responses"]


def test_the_lead_list_parameters_are_documented_as_the_filters_read_them(schema):
    params = {p["name"]: p for p in schema["paths"]["/whatsapp/api/leads/"]["get"]["parameters"]}

    assert set(params) >= {"status", "campaign", "owner", "created_after", "created_before", "ordering"}
    assert {"search", "page", "page_size"} <= set(params)
    assert (params["status"]["style"], params["status"]["explode"]) == ("form", False)  # new,contacted
    assert params["status"]["schema"]["items"]["enum"] == ["new", "contacted", "qualified", "won", "lost"]
    assert set(params["ordering"]["schema"]["items"]["enum"]) == {
        "created_at",
        "-created_at",
        "last_message_at",
        "-last_message_at",
    }
    filter_error = schema["components"]["schemas"]["LeadFilterError"]["properties"]
    assert set(filter_error) == {
        "status",
        "campaign",
        "owner",
        "created_after",
        "created_before",
        "ordering",
        "search",
        "country",  # ad loop
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "ref",
    }


def test_a_patch_body_documents_owner_for_managers(schema):
    body = schema["paths"]["/whatsapp/api/leads/{id}/"]["patch"]["requestBody"]["content"]["application/json"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[1]

    assert set(schema["components"]["schemas"][ref]["properties"]) == {
        "name",
        "status",
        "owner",
        "deal_value",
        "deal_currency",
    }


@pytest.mark.parametrize("name", ["api-swagger", "api-redoc"])
def test_the_schema_readers_load_only_files_this_server_serves(name):
    response = APIClient().get(reverse(f"whatsapp_leads:{name}"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "/whatsapp/api/schema/" in html  # the page reads our schema
    assert "googleapis" not in html and "cdn" not in html.lower()
    referenced = URL_IN_PAGE.findall(html)
    assert any(url.endswith(".js") for url in referenced)
    for url in referenced:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, url  # no other host, not even //host/...
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url  # shipped by drf-spectacular-sidecar
