"""System checks name the exact setting to fix, each under a stable id."""

from __future__ import annotations

import importlib.util
from datetime import date

import pytest
from django.core.checks import run_checks
from django.core.files.storage import FileSystemStorage

from whatsapp_leads.adapter import LeadAdapter
from whatsapp_leads.checks import (
    check_adapter,
    check_beat_intervals,
    check_flow_field_map,
    check_media_storage,
    check_providers,
    check_routing_settings,
    check_setting_keys,
    check_webhook_settings,
    graph_version_issues,
)
from whatsapp_leads.providers.base import Provider

TODAY = date(2026, 12, 2)


def ids(issues) -> set[str]:
    return {issue.id for issue in issues}


def ours(issues) -> list:
    return [issue for issue in issues if issue.id.startswith("whatsapp_leads.")]


def configure(settings, **values) -> None:
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, **values}


# Importable by dotted path (tests.test_checks.<name>) for the ADAPTER and PROVIDERS checks.
class LeadsProvider(Provider):
    name = "leads-test"


class OtherProvider(Provider):
    name = "other_test"


class SameNameProvider(Provider):
    name = "leads-test"


class SpacedProvider(Provider):
    name = "Leads Test"


class NotAProvider:
    name = "not-a-provider"


class HostAdapter(LeadAdapter):
    pass


class DuckAdapter:
    def default_owner(self):
        return None

    def populate_new_lead(self, lead, message):
        pass

    def is_eligible_owner(self, user):
        return True


class HalfAdapter:
    def default_owner(self):
        return None


class FactoryStorage(FileSystemStorage):
    pass


def make_storage() -> FileSystemStorage:
    return FactoryStorage()


STORAGE_INSTANCE = FactoryStorage()


META_SHIPPED = importlib.util.find_spec("whatsapp_leads.providers.meta") is not None
TEST_PROVIDERS = ["tests.test_checks.LeadsProvider", "tests.test_checks.OtherProvider"]


# --- the whole set ----------------------------------------------------------------------------


@pytest.mark.skipif(
    not META_SHIPPED, reason="the default PROVIDERS entry (MetaProvider) is not on this branch"
)
def test_the_default_configuration_passes_every_check(settings):
    assert ours(run_checks()) == []


def test_a_complete_configuration_passes_every_check(settings):
    configure(settings, PROVIDERS=TEST_PROVIDERS)
    assert ours(run_checks()) == []


def test_configured_settings_raise_no_issue(settings):
    assert check_webhook_settings() == []
    assert check_routing_settings() == []


# --- webhook and routing (unchanged ids) ------------------------------------------------------


def test_missing_secret_and_verify_token_are_reported_by_name(settings):
    configure(settings, APP_SECRETS=[], VERIFY_TOKEN="")
    issues = check_webhook_settings()
    assert ids(issues) == {"whatsapp_leads.W001", "whatsapp_leads.W002"}
    assert "WHATSAPP_APP_SECRET" in issues[0].hint


def test_an_upload_limit_below_three_megabytes_is_an_error(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2621440
    assert "whatsapp_leads.E001" in ids(check_webhook_settings())


def test_an_unknown_business_time_zone_is_an_error(settings):
    configure(settings, BUSINESS_TIME_ZONE="Asia/Bombay-ish")
    assert ids(check_routing_settings()) == {"whatsapp_leads.E002"}


def test_an_unknown_off_hours_rule_is_an_error(settings):
    configure(settings, OFF_HOURS_ROUTING="round_robin")
    assert ids(check_routing_settings()) == {"whatsapp_leads.E003"}


# --- keys of WHATSAPP_LEADS -------------------------------------------------------------------


def test_a_misspelt_key_is_a_warning_that_suggests_the_right_one(settings):
    configure(settings, ADAPTR="tests.test_checks.HostAdapter")
    (issue,) = check_setting_keys()
    assert issue.id == "whatsapp_leads.W003"
    assert "WHATSAPP_LEADS['ADAPTR']" in issue.msg
    assert issue.hint.startswith("Did you mean WHATSAPP_LEADS['ADAPTER']?")


def test_a_lower_case_key_is_matched_to_its_upper_case_setting(settings):
    configure(settings, verify_token="x")
    (issue,) = check_setting_keys()
    assert "Did you mean WHATSAPP_LEADS['VERIFY_TOKEN']?" in issue.hint


def test_an_unknown_key_like_no_setting_gets_no_guess(settings):
    configure(settings, COLOUR_SCHEME="dark")
    (issue,) = check_setting_keys()
    assert issue.id == "whatsapp_leads.W003" and "Did you mean" not in issue.hint


def test_known_keys_raise_no_warning(settings):
    configure(settings, ADAPTER="tests.test_checks.HostAdapter", MEDIA_STORAGE="")
    assert check_setting_keys() == []


def test_a_setting_that_is_not_a_dict_is_an_error_and_the_other_checks_still_run(settings):
    settings.WHATSAPP_LEADS = [("VERIFY_TOKEN", "x")]
    issues = ours(run_checks())
    assert "whatsapp_leads.E004" in ids(issues)
    assert "whatsapp_leads.W002" in ids(issues)  # the list was not read: no verify token


# --- ADAPTER ----------------------------------------------------------------------------------


def test_an_adapter_subclass_passes(settings):
    configure(settings, ADAPTER="tests.test_checks.HostAdapter")
    assert check_adapter() == []


def test_an_adapter_that_does_not_import_is_an_error_naming_the_setting(settings):
    configure(settings, ADAPTER="mycrm.whatsapp.Adapter")
    (issue,) = check_adapter()
    assert issue.id == "whatsapp_leads.E005"
    assert issue.msg.startswith("WHATSAPP_LEADS['ADAPTER']: could not import 'mycrm.whatsapp.Adapter': ")
    assert "WHATSAPP_LEADS['ADAPTER']" in issue.hint


def test_an_adapter_module_without_the_class_is_an_import_error(settings):
    configure(settings, ADAPTER="whatsapp_leads.adapter.MissingAdapter")
    (issue,) = check_adapter()
    assert issue.id == "whatsapp_leads.E005" and "MissingAdapter" in issue.msg


def test_an_adapter_that_is_not_a_class_is_an_error(settings):
    configure(settings, ADAPTER="whatsapp_leads.adapter.get_adapter")
    assert ids(check_adapter()) == {"whatsapp_leads.E006"}


def test_an_adapter_missing_methods_is_an_error_naming_them(settings):
    configure(settings, ADAPTER="tests.test_checks.HalfAdapter")
    (issue,) = check_adapter()
    assert issue.id == "whatsapp_leads.E006"
    assert "populate_new_lead" in issue.msg and "is_eligible_owner" in issue.msg
    assert "default_owner" not in issue.msg


def test_a_duck_typed_adapter_is_only_a_warning(settings):
    configure(settings, ADAPTER="tests.test_checks.DuckAdapter")
    assert ids(check_adapter()) == {"whatsapp_leads.W004"}


# --- MEDIA_STORAGE ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "default",
        "django.core.files.storage.FileSystemStorage",
        "tests.test_checks.STORAGE_INSTANCE",
        "tests.test_checks.make_storage",
    ],
    ids=["empty", "alias", "class", "instance", "factory"],
)
def test_media_storage_accepts_the_documented_forms(settings, value):
    configure(settings, MEDIA_STORAGE=value)
    assert check_media_storage() == []


def test_a_media_storage_alias_that_storages_lacks_is_an_error_listing_the_aliases(settings):
    configure(settings, MEDIA_STORAGE="private")
    (issue,) = check_media_storage()
    assert issue.id == "whatsapp_leads.E007"
    assert "WHATSAPP_LEADS['MEDIA_STORAGE'] is 'private'" in issue.msg and "default" in issue.msg


def test_a_media_storage_path_that_does_not_import_is_an_error(settings):
    configure(settings, MEDIA_STORAGE="storages.backends.s3.S3Storage3")
    (issue,) = check_media_storage()
    assert issue.id == "whatsapp_leads.E005" and "WHATSAPP_LEADS['MEDIA_STORAGE']" in issue.msg


@pytest.mark.parametrize("value", ["whatsapp_leads.adapter.LeadAdapter", "whatsapp_leads.conf.DEFAULTS", 42])
def test_a_media_storage_that_is_no_storage_is_an_error(settings, value):
    configure(settings, MEDIA_STORAGE=value)
    assert ids(check_media_storage()) == {"whatsapp_leads.E007"}


# --- FLOW_FIELD_MAP ---------------------------------------------------------------------------


def test_a_flow_map_of_lead_fields_and_extra_keys_passes(settings):
    configure(
        settings, FLOW_FIELD_MAP={"lead_form": {"email": "email", "full_name": "name", "budget": "budget"}}
    )
    assert check_flow_field_map() == []


@pytest.mark.parametrize(
    "value",
    [
        ["lead_form"],
        {"lead_form": ["email"]},
        {"lead_form": {"email": 3}},
        {"lead_form": {"email": ""}},
        {"": {"email": "email"}},
    ],
    ids=["list", "inner-list", "non-text-target", "empty-target", "empty-key"],
)
def test_a_flow_map_of_the_wrong_shape_is_an_error(settings, value):
    configure(settings, FLOW_FIELD_MAP=value)
    issues = check_flow_field_map()
    assert ids(issues) == {"whatsapp_leads.E008"}
    assert "WHATSAPP_LEADS['FLOW_FIELD_MAP']" in issues[0].msg


def test_a_flow_target_naming_a_lead_field_flows_cannot_fill_is_a_warning(settings):
    configure(settings, FLOW_FIELD_MAP={"lead_form": {"stage": "status", "email": "email"}})
    (issue,) = check_flow_field_map()
    assert issue.id == "whatsapp_leads.W005"
    assert "'status'" in issue.msg and "Lead.extra['status']" in issue.msg


# --- PROVIDERS --------------------------------------------------------------------------------


def test_providers_with_their_own_url_safe_names_pass(settings):
    configure(settings, PROVIDERS=TEST_PROVIDERS)
    assert check_providers() == []


@pytest.mark.parametrize("value", ["tests.test_checks.LeadsProvider", [], None])
def test_providers_that_are_not_a_list_of_paths_are_an_error(settings, value):
    configure(settings, PROVIDERS=value)
    assert ids(check_providers()) == {"whatsapp_leads.E009"}


def test_a_provider_that_does_not_import_is_an_error_naming_its_entry(settings):
    configure(settings, PROVIDERS=["tests.test_checks.LeadsProvider", "mycrm.providers.Gupshup"])
    (issue,) = check_providers()
    assert issue.id == "whatsapp_leads.E005"
    assert issue.msg.startswith("WHATSAPP_LEADS['PROVIDERS'][1]: could not import 'mycrm.providers.Gupshup'")


def test_a_class_that_is_not_a_provider_is_an_error(settings):
    configure(settings, PROVIDERS=["tests.test_checks.NotAProvider"])
    (issue,) = check_providers()
    assert issue.id == "whatsapp_leads.E009" and "WHATSAPP_LEADS['PROVIDERS'][0]" in issue.msg


def test_a_provider_name_that_is_not_url_safe_is_an_error(settings):
    configure(settings, PROVIDERS=["tests.test_checks.SpacedProvider"])
    (issue,) = check_providers()
    assert issue.id == "whatsapp_leads.E010" and "'Leads Test'" in issue.msg


def test_a_provider_without_a_name_is_an_error(settings):
    configure(settings, PROVIDERS=["whatsapp_leads.providers.base.Provider"])
    assert ids(check_providers()) == {"whatsapp_leads.E010"}


def test_two_providers_with_one_name_are_an_error_naming_both_entries(settings):
    configure(settings, PROVIDERS=["tests.test_checks.LeadsProvider", "tests.test_checks.SameNameProvider"])
    (issue,) = check_providers()
    assert issue.id == "whatsapp_leads.E011"
    assert "WHATSAPP_LEADS['PROVIDERS'][1] and WHATSAPP_LEADS['PROVIDERS'][0]" in issue.msg


# --- Graph API versions -----------------------------------------------------------------------


def test_the_default_versions_are_current(settings):
    assert graph_version_issues(today=TODAY) == []


def test_an_expired_marketing_version_is_a_warning_naming_the_key(settings):
    configure(settings, MARKETING_API_VERSION="v24.0")
    (issue,) = graph_version_issues(today=TODAY)
    assert issue.id == "whatsapp_leads.W006"
    assert "WHATSAPP_LEADS['MARKETING_API_VERSION'] is 'v24.0'" in issue.msg and "2026-11-10" in issue.msg
    assert "META_MARKETING_API_VERSION" in issue.hint


def test_a_graph_version_too_old_for_marketing_only_warns_for_marketing(settings):
    configure(settings, META_GRAPH_VERSION="v24.0")
    (issue,) = graph_version_issues(today=TODAY)  # v24.0 serves the Cloud API until 2028
    assert issue.id == "whatsapp_leads.W006"
    assert "WHATSAPP_LEADS['META_GRAPH_VERSION']" in issue.msg and "Marketing API" in issue.msg
    assert "WHATSAPP_LEADS['MARKETING_API_VERSION']" in issue.hint


def test_a_marketing_version_of_its_own_silences_the_graph_version_warning(settings):
    configure(settings, META_GRAPH_VERSION="v24.0", MARKETING_API_VERSION="v27.0")
    assert graph_version_issues(today=TODAY) == []


def test_a_version_older_than_the_table_is_expired_for_marketing(settings):
    configure(settings, MARKETING_API_VERSION="v21.0")
    (issue,) = graph_version_issues(today=TODAY)
    assert issue.id == "whatsapp_leads.W006" and "at the latest" in issue.msg


def test_a_version_near_its_end_is_a_warning_before_it_expires(settings):
    configure(settings, MARKETING_API_VERSION="v25.0")
    assert graph_version_issues(today=TODAY) == []  # 83 days left
    assert ids(graph_version_issues(today=date(2027, 1, 1))) == {"whatsapp_leads.W007"}
    assert ids(graph_version_issues(today=date(2027, 2, 24))) == {"whatsapp_leads.W006"}


def test_an_expired_cloud_api_version_is_a_warning(settings):
    configure(settings, CLOUD_API_VERSION="v23.0")
    assert ids(graph_version_issues(today=date(2027, 10, 8))) == {"whatsapp_leads.W007"}  # last day served
    (issue,) = graph_version_issues(today=date(2027, 10, 9))
    assert issue.id == "whatsapp_leads.W006" and "WhatsApp Cloud API" in issue.msg


def test_a_malformed_version_is_an_error_reported_once(settings):
    configure(settings, META_GRAPH_VERSION="25.0")
    (issue,) = graph_version_issues(today=TODAY)
    assert issue.id == "whatsapp_leads.E012" and "WHATSAPP_LEADS['META_GRAPH_VERSION'] is '25.0'" in issue.msg


def test_the_registered_check_compares_with_todays_date(settings):
    configure(settings, MARKETING_API_VERSION="v23.0", PROVIDERS=TEST_PROVIDERS)  # expired 9 Jun 2026
    assert "whatsapp_leads.W006" in ids(run_checks())


# --- beat intervals ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["60", -5, True])
def test_a_beat_interval_that_is_no_number_of_seconds_is_an_error(settings, value):
    configure(settings, SWEEP_INTERVAL_SECONDS=value)
    (issue,) = check_beat_intervals()
    assert issue.id == "whatsapp_leads.E013" and "WHATSAPP_LEADS['SWEEP_INTERVAL_SECONDS']" in issue.msg


@pytest.mark.parametrize("value", [0, 30, 0.5])
def test_beat_intervals_in_seconds_or_zero_pass(settings, value):
    configure(settings, CAMPAIGN_SYNC_INTERVAL_SECONDS=value)
    assert check_beat_intervals() == []


# --- personal data ---------------------------------------------------------------------------------


def test_retention_periods_of_whole_days_or_none_pass(settings):
    from whatsapp_leads.checks import check_retention

    configure(settings, RAW_BODY_RETENTION_DAYS=30, MEDIA_RETENTION_DAYS=None, CLOSED_LEAD_RETENTION_DAYS=365)
    assert check_retention() == []


@pytest.mark.parametrize("value", [0, -1, "30", 1.5, True])
def test_a_retention_period_that_is_no_whole_number_of_days_is_an_error_naming_it(settings, value):
    from whatsapp_leads.checks import check_retention

    configure(settings, MEDIA_RETENTION_DAYS=value)
    issues = check_retention()

    assert ids(issues) == {"whatsapp_leads.E014"}
    assert "WHATSAPP_LEADS['MEDIA_RETENTION_DAYS']" in issues[0].msg


def test_a_retention_batch_size_of_zero_is_an_error(settings):
    from whatsapp_leads.checks import check_retention

    configure(settings, RETENTION_BATCH_SIZE=0)
    assert ids(check_retention()) == {"whatsapp_leads.E014"}


@pytest.mark.parametrize("value", ["STOP", ["STOP", ""], [1], None])
def test_keyword_lists_that_are_not_lists_of_words_are_an_error(settings, value):
    from whatsapp_leads.checks import check_consent_keywords

    configure(settings, OPT_OUT_KEYWORDS=value)
    issues = check_consent_keywords()

    assert ids(issues) == {"whatsapp_leads.E015"}
    assert "OPT_OUT_KEYWORDS" in issues[0].msg


def test_a_word_in_both_keyword_lists_is_an_error(settings):
    from whatsapp_leads.checks import check_consent_keywords

    configure(settings, OPT_OUT_KEYWORDS=["STOP", "Bas"], OPT_IN_KEYWORDS=["bas!", "START"])
    issues = check_consent_keywords()

    assert ids(issues) == {"whatsapp_leads.E015"}
    assert "bas" in issues[0].msg
