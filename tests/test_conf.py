"""The settings object: defaults, import strings resolved with errors that name the key, per-API versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from whatsapp_leads.adapter import LeadAdapter
from whatsapp_leads.conf import DEFAULT_GRAPH_URL, DEFAULT_GRAPH_VERSION, DEFAULTS, app_settings

ROOT = Path(__file__).resolve().parent.parent


def configure(settings, **values) -> None:
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, **values}


class HostAdapter(LeadAdapter):
    pass


class FirstProvider:
    name = "first"


class SecondProvider:
    name = "second"


# --- import strings ---------------------------------------------------------------------------


def test_the_adapter_path_is_resolved_to_the_class_and_follows_setting_changes(settings):
    assert app_settings.ADAPTER is LeadAdapter
    configure(settings, ADAPTER="tests.test_conf.HostAdapter")
    assert app_settings.ADAPTER is HostAdapter


def test_an_adapter_that_does_not_import_raises_naming_the_setting(settings):
    configure(settings, ADAPTER="x.y")
    with pytest.raises(ImproperlyConfigured) as caught:
        app_settings.ADAPTER
    assert str(caught.value).startswith("WHATSAPP_LEADS['ADAPTER']: could not import 'x.y': ")


def test_a_missing_class_in_an_existing_module_raises_naming_the_setting(settings):
    configure(settings, ADAPTER="whatsapp_leads.adapter.NoSuchAdapter")
    with pytest.raises(
        ImproperlyConfigured, match=r"WHATSAPP_LEADS\['ADAPTER'\]: could not import .*NoSuchAdapter"
    ):
        app_settings.ADAPTER


def test_providers_are_a_list_of_import_strings_resolved_in_order(settings):
    configure(settings, PROVIDERS=["tests.test_conf.SecondProvider", "tests.test_conf.FirstProvider"])
    second, first = app_settings.PROVIDERS
    assert (second, first) == (SecondProvider, FirstProvider)


def test_a_provider_that_does_not_import_raises_naming_its_entry(settings):
    configure(settings, PROVIDERS=["tests.test_conf.FirstProvider", "mycrm.NoProvider"])
    with pytest.raises(ImproperlyConfigured) as caught:
        app_settings.PROVIDERS
    assert str(caught.value).startswith(
        "WHATSAPP_LEADS['PROVIDERS'][1]: could not import 'mycrm.NoProvider': "
    )


def test_already_imported_objects_are_taken_as_they_are(settings):
    configure(settings, ADAPTER=HostAdapter, PROVIDERS=[FirstProvider])
    assert app_settings.ADAPTER is HostAdapter
    (provider,) = app_settings.PROVIDERS
    assert provider is FirstProvider


def test_the_default_providers_setting_is_metas_provider():
    assert DEFAULTS["PROVIDERS"] == ["whatsapp_leads.providers.meta.MetaProvider"]


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="ADAPTR"):
        app_settings.ADAPTR


# --- Graph address and versions ---------------------------------------------------------------


def test_versions_default_to_the_current_graph_version(settings):
    settings.WHATSAPP_LEADS = {}
    assert DEFAULT_GRAPH_VERSION == "v27.0"
    assert app_settings.graph_version == "v27.0"
    assert app_settings.cloud_api_version == "v27.0"
    assert app_settings.marketing_api_version == "v27.0"
    assert app_settings.graph_url == DEFAULT_GRAPH_URL == "https://graph.facebook.com"


def test_each_api_falls_back_to_meta_graph_version(settings):
    configure(settings, META_GRAPH_VERSION="v26.0")
    assert (app_settings.cloud_api_version, app_settings.marketing_api_version) == ("v26.0", "v26.0")


def test_each_api_may_have_its_own_version(settings):
    configure(
        settings, META_GRAPH_VERSION="v25.0", CLOUD_API_VERSION="v23.0", MARKETING_API_VERSION=" v27.0 "
    )
    assert app_settings.cloud_api_version == "v23.0"
    assert app_settings.marketing_api_version == "v27.0"


def test_an_empty_graph_url_or_version_means_metas(settings):
    configure(settings, META_GRAPH_URL="", META_GRAPH_VERSION="")
    assert app_settings.graph_url == "https://graph.facebook.com"
    assert app_settings.cloud_api_version == DEFAULT_GRAPH_VERSION


def test_a_trailing_slash_on_the_graph_url_is_dropped(settings):
    configure(settings, META_GRAPH_URL="http://127.0.0.1:8123/")
    assert app_settings.graph_url == "http://127.0.0.1:8123"


VERSION_VARIABLES = (
    "META_GRAPH_URL",
    "META_GRAPH_VERSION",
    "WHATSAPP_CLOUD_API_VERSION",
    "META_MARKETING_API_VERSION",
)


def host_settings(**environment: str) -> dict:
    """WHATSAPP_LEADS as bharatcrm/settings.py builds it from ``environment`` (in a fresh process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("META_", "WHATSAPP_"))}
    # Set but empty reads as unset, and keeps a developer's .env from filling these in.
    env.update(
        dict.fromkeys(VERSION_VARIABLES, ""), DJANGO_SETTINGS_MODULE="bharatcrm.settings", DEBUG="true"
    )
    env.update(environment)
    env["BHARATCRM_VAR_DIR"] = str(ROOT / "var")
    code = (
        "import json, django; from django.conf import settings; "
        "print(json.dumps({k: v for k, v in settings.WHATSAPP_LEADS.items() if 'VERSION' in k or 'URL' in k}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_host_reads_each_version_from_its_own_environment_variable():
    assert host_settings(
        META_GRAPH_VERSION="v26.0",
        WHATSAPP_CLOUD_API_VERSION="v25.0",
        META_MARKETING_API_VERSION="v27.0",
        META_GRAPH_URL="http://127.0.0.1:9",
    ) == {
        "META_GRAPH_VERSION": "v26.0",
        "CLOUD_API_VERSION": "v25.0",
        "MARKETING_API_VERSION": "v27.0",
        "META_GRAPH_URL": "http://127.0.0.1:9",
    }


def test_the_host_leaves_unset_versions_to_the_apps_defaults():
    assert host_settings() == {}
