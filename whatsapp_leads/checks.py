"""System checks: a misconfigured deployment is told which setting to fix, by its exact name.

Ids are stable, so hosts can silence one (SILENCED_SYSTEM_CHECKS) and docs can point at it:

- W001, W002, E001: webhook secrets and body size.  E002, E003: routing.
- W003: an unknown key in WHATSAPP_LEADS.  E004: WHATSAPP_LEADS is not a dict.
- E005: an import string that does not import (ADAPTER, PROVIDERS).
- E006, W004: ADAPTER is not a LeadAdapter.  E007: MEDIA_STORAGE names no storage.
- E008, W005: FLOW_FIELD_MAP's shape and targets.
- E009, E010, E011: PROVIDERS entries, their names, duplicate names.
- E012, W006, W007: Graph API versions (malformed, expired, expiring soon).
- E013: beat job intervals.
- E014: retention periods (RAW_BODY_, MEDIA_, CLOSED_LEAD_RETENTION_DAYS, RETENTION_BATCH_SIZE).
- E015: OPT_OUT_KEYWORDS / OPT_IN_KEYWORDS.
- W008, W009, W010, E016: Twilio's settings, when Twilio is enabled (providers/twilio/checks.py).
- E017, W011: CONVERSION_EVENTS (shape; an event name Meta refuses or CONVERSION_EVENT_NAMES lacks).
- E021, W021: engagement and SLA settings (RESPONSE_ORIGINS, SLA_BATCH_SIZE, SLA_MAX_REASSIGNMENTS;
  SLA_CHECK_SECONDS is a beat interval, E013).
"""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, storages
from django.utils import timezone

from .conf import (
    DEFAULT_GRAPH_VERSION,
    DEFAULTS,
    SETTING_NAME,
    app_settings,
    import_from_setting,
    setting_label,
)
from .graph.versions import Api, expiry, parse_version


@register(Tags.security, deploy=False)
def check_webhook_settings(app_configs: Any = None, **kwargs: Any) -> list:
    issues: list = []
    if not app_settings.app_secrets:
        issues.append(
            Warning(
                "No app secret is configured, so every webhook POST will be refused with 403.",
                hint="Set WHATSAPP_APP_SECRET (App Dashboard > App settings > Basic); comma-separate "
                "several while rotating. It fills WHATSAPP_LEADS['APP_SECRETS'].",
                id="whatsapp_leads.W001",
            )
        )
    if not app_settings.VERIFY_TOKEN:
        issues.append(
            Warning(
                "No verify token is configured, so Meta's subscription handshake will be refused.",
                hint="Set WHATSAPP_VERIFY_TOKEN to the string typed into the App Dashboard "
                "(WHATSAPP_LEADS['VERIFY_TOKEN']).",
                id="whatsapp_leads.W002",
            )
        )
    limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    if limit is not None and limit < app_settings.MAX_BODY_BYTES:
        issues.append(
            Error(
                f"DATA_UPLOAD_MAX_MEMORY_SIZE is {limit} bytes; Meta posts webhooks of up to 3 MB.",
                hint=f"Set DATA_UPLOAD_MAX_MEMORY_SIZE to at least {app_settings.MAX_BODY_BYTES}.",
                id="whatsapp_leads.E001",
            )
        )
    return issues


OFF_HOURS_CHOICES = ("next_on_duty", "fallback")


@register()
def check_routing_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Routing settings are read while a lead is being assigned; a typo there must show at deploy."""
    issues: list = []
    zone = app_settings.BUSINESS_TIME_ZONE
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            issues.append(
                Error(
                    f"WHATSAPP_LEADS['BUSINESS_TIME_ZONE'] is {zone!r}, which is not a known time zone.",
                    hint="Use an IANA name such as 'Asia/Kolkata', or leave it empty to use TIME_ZONE.",
                    id="whatsapp_leads.E002",
                )
            )
    if app_settings.OFF_HOURS_ROUTING not in OFF_HOURS_CHOICES:
        issues.append(
            Error(
                f"WHATSAPP_LEADS['OFF_HOURS_ROUTING'] is {app_settings.OFF_HOURS_ROUTING!r}.",
                hint=f"Use one of {', '.join(OFF_HOURS_CHOICES)}.",
                id="whatsapp_leads.E003",
            )
        )
    return issues


# --- the WHATSAPP_LEADS dict itself ---------------------------------------------------------------


@register()
def check_setting_keys(app_configs: Any = None, **kwargs: Any) -> list:
    """A misspelt key is otherwise silently ignored and its default used."""
    value = getattr(settings, SETTING_NAME, {})
    if value is None:
        return []
    if not isinstance(value, dict):
        return [
            Error(
                f"{SETTING_NAME} is a {type(value).__name__}, so every app setting takes its default.",
                hint=f"Make {SETTING_NAME} a dict of the keys documented in the README, e.g. "
                f"{SETTING_NAME} = {{'VERIFY_TOKEN': ...}}.",
                id="whatsapp_leads.E004",
            )
        ]
    issues: list = []
    known = {key.upper(): key for key in DEFAULTS}
    for key in value:
        if key in DEFAULTS:
            continue
        guess = difflib.get_close_matches(str(key).upper(), known, n=1, cutoff=0.6)
        hint = f"Did you mean {setting_label(known[guess[0]])}? " if guess else ""
        issues.append(
            Warning(
                f"{setting_label(key)} is not a whatsapp_leads setting and is ignored.",
                hint=f"{hint}The keys are listed in whatsapp_leads/conf.py (DEFAULTS) and the README.",
                obj=key,
                id="whatsapp_leads.W003",
            )
        )
    return issues


def _import_error(exc: ImproperlyConfigured, *, where: str) -> Error:
    return Error(
        str(exc),
        hint=f"Fix the dotted path in {where}: the module must be importable and define that name.",
        id="whatsapp_leads.E005",
    )


# --- ADAPTER, MEDIA_STORAGE -----------------------------------------------------------------------


@register()
def check_adapter(app_configs: Any = None, **kwargs: Any) -> list:
    """The adapter is called while a lead is created; a broken one must show at deploy, not then."""
    from .adapter import LeadAdapter

    label = setting_label("ADAPTER")
    try:
        adapter = import_from_setting(app_settings.raw("ADAPTER"), setting=label)
    except ImproperlyConfigured as exc:
        return [_import_error(exc, where=label)]
    hint = f"Point {label} at a subclass of whatsapp_leads.adapter.LeadAdapter."
    if not isinstance(adapter, type):
        return [Error(f"{label} is {adapter!r}, not a class.", hint=hint, id="whatsapp_leads.E006")]
    if issubclass(adapter, LeadAdapter):
        return []
    methods = [n for n in vars(LeadAdapter) if not n.startswith("_") and callable(getattr(LeadAdapter, n))]
    missing = [n for n in methods if not callable(getattr(adapter, n, None))]
    if missing:
        return [
            Error(
                f"{label} ({adapter.__module__}.{adapter.__qualname__}) lacks {', '.join(missing)}.",
                hint=hint,
                id="whatsapp_leads.E006",
            )
        ]
    return [
        Warning(
            f"{label} ({adapter.__module__}.{adapter.__qualname__}) is not a LeadAdapter subclass; "
            "methods the app adds later will be missing from it.",
            hint=hint,
            id="whatsapp_leads.W004",
        )
    ]


@register()
def check_media_storage(app_configs: Any = None, **kwargs: Any) -> list:
    """Mirrors storage.resolve_media_storage without instantiating a backend (no I/O in a check)."""
    value = app_settings.raw("MEDIA_STORAGE")
    label = setting_label("MEDIA_STORAGE")
    hint = (
        f"Leave {label} empty for the private folder under MEDIA_ROOT, or name a STORAGES alias "
        "or the dotted path of a Storage class or instance."
    )
    if not value or isinstance(value, Storage):
        return []
    if not isinstance(value, str):
        return [Error(f"{label} is a {type(value).__name__}.", hint=hint, id="whatsapp_leads.E007")]
    if value in storages.backends:
        return []
    if "." not in value:
        aliases = ", ".join(sorted(storages.backends)) or "none"
        return [
            Error(
                f"{label} is {value!r}, which is not a STORAGES alias (configured: {aliases}).",
                hint=hint,
                id="whatsapp_leads.E007",
            )
        ]
    try:
        target = import_from_setting(value, setting=label)
    except ImproperlyConfigured as exc:
        return [_import_error(exc, where=label)]
    if isinstance(target, Storage) or (isinstance(target, type) and issubclass(target, Storage)):
        return []
    if callable(target) and not isinstance(target, type):
        return []  # a factory returning a storage: resolved (and checked) on first use
    return [Error(f"{label} = {value!r} is not a Django Storage.", hint=hint, id="whatsapp_leads.E007")]


# --- FLOW_FIELD_MAP --------------------------------------------------------------------------------


@register()
def check_flow_field_map(app_configs: Any = None, **kwargs: Any) -> list:
    """``{flow key: {answer name: target}}``; a target is a field Flows fill, else a key of Lead.extra.

    A target naming another Lead field (``status``, ``owner``) would quietly land in
    ``Lead.extra`` under that name instead of changing the field: that is warned about.
    """
    from .models import Lead
    from .services.flows import LEAD_FIELDS

    value = app_settings.raw("FLOW_FIELD_MAP")
    label = setting_label("FLOW_FIELD_MAP")
    shape = f"{label} must be {{flow key: {{answer name: lead field or Lead.extra key}}}}, all strings."
    if not value:
        return []
    if not isinstance(value, dict):
        return [Error(f"{label} is a {type(value).__name__}.", hint=shape, id="whatsapp_leads.E008")]
    issues: list = []
    model_fields = {f.name for f in Lead._meta.get_fields()}
    for key, mapping in value.items():
        where = f"{label}[{key!r}]"
        if not isinstance(key, str) or not key:
            issues.append(Error(f"{label} has the flow key {key!r}.", hint=shape, id="whatsapp_leads.E008"))
            continue
        if not isinstance(mapping, dict):
            issues.append(
                Error(f"{where} is a {type(mapping).__name__}.", hint=shape, id="whatsapp_leads.E008")
            )
            continue
        for answer, target in mapping.items():
            if not isinstance(answer, str) or not answer or not isinstance(target, str) or not target:
                issues.append(
                    Error(f"{where} maps {answer!r} to {target!r}.", hint=shape, id="whatsapp_leads.E008")
                )
            elif target in model_fields and target not in LEAD_FIELDS:
                issues.append(
                    Warning(
                        f"{where}[{answer!r}] targets {target!r}, a Lead field that Flow answers do not fill; "
                        f"the answer would be stored as Lead.extra[{target!r}].",
                        hint=f"Flow answers fill {', '.join(sorted(LEAD_FIELDS))}; use another name for an "
                        "extra key.",
                        id="whatsapp_leads.W005",
                    )
                )
    return issues


# --- PROVIDERS -------------------------------------------------------------------------------------

# A provider's name is a URL segment (/whatsapp/webhook/<name>/) and WebhookEvent.provider.
PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@register()
def check_providers(app_configs: Any = None, **kwargs: Any) -> list:
    """Every entry imports, is a Provider subclass, and has its own URL-safe name."""
    from .providers.base import Provider

    label = setting_label("PROVIDERS")
    raw = app_settings.raw("PROVIDERS")
    hint = (
        f"{label} is a list of dotted paths to whatsapp_leads.providers.base.Provider subclasses, "
        "e.g. ['whatsapp_leads.providers.meta.MetaProvider']."
    )
    if isinstance(raw, str) or not isinstance(raw, list | tuple) or not raw:
        return [Error(f"{label} is {raw!r}.", hint=hint, id="whatsapp_leads.E009")]
    issues: list = []
    seen: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = f"{label}[{index}]"
        try:
            provider = import_from_setting(item, setting=where)
        except ImproperlyConfigured as exc:
            issues.append(_import_error(exc, where=where))
            continue
        if not (isinstance(provider, type) and issubclass(provider, Provider)):
            issues.append(
                Error(f"{where} is {item!r}, not a Provider subclass.", hint=hint, id="whatsapp_leads.E009")
            )
            continue
        name = getattr(provider, "name", "")
        if not isinstance(name, str) or not PROVIDER_NAME.match(name):
            issues.append(
                Error(
                    f"{where} ({provider.__qualname__}) has the name {name!r}.",
                    hint="Give the class a name of lower-case letters, digits, '-' and '_' (it is the "
                    "webhook's URL segment, /whatsapp/webhook/<name>/, and WebhookEvent.provider).",
                    id="whatsapp_leads.E010",
                )
            )
        elif name in seen:
            issues.append(
                Error(
                    f"{where} and {seen[name]} are both named {name!r}.",
                    hint=f"Each entry of {label} needs its own name; remove the duplicate or rename one.",
                    id="whatsapp_leads.E011",
                )
            )
        else:
            seen[name] = where
            issues += provider.system_checks()  # the provider's own settings, only when it is enabled
    return issues


# --- Graph API versions ----------------------------------------------------------------------------

VERSION_KEYS = {Api.CLOUD: "CLOUD_API_VERSION", Api.MARKETING: "MARKETING_API_VERSION"}
VERSION_ENV = {
    "META_GRAPH_VERSION": "META_GRAPH_VERSION",
    "CLOUD_API_VERSION": "WHATSAPP_CLOUD_API_VERSION",
    "MARKETING_API_VERSION": "META_MARKETING_API_VERSION",
}
API_NAMES = {Api.CLOUD: "WhatsApp Cloud API", Api.MARKETING: "Marketing API"}
EXPIRY_WARNING_DAYS = 60


def graph_version_issues(*, today: date) -> list:
    """Each API's effective version checked against Meta's published end dates as of ``today``."""
    issues: list = []
    seen: set[tuple[str, str]] = set()
    for api, key in VERSION_KEYS.items():
        own = str(app_settings.raw(key) or "").strip()
        source = key if own else "META_GRAPH_VERSION"
        version = own or app_settings.graph_version
        label = setting_label(source)
        via = "" if own else f" (used for the {API_NAMES[api]} since {setting_label(key)} is empty)"
        fix = f"Set {setting_label(key)} (environment: {VERSION_ENV[key]}) to {DEFAULT_GRAPH_VERSION}."
        if parse_version(version) is None:
            if (source, version) not in seen:
                issues.append(
                    Error(
                        f"{label} is {version!r}; Graph API versions look like 'v27.0'.",
                        hint=f"Set {label} (environment: {VERSION_ENV[source]}) to a version such as "
                        f"{DEFAULT_GRAPH_VERSION!r}.",
                        id="whatsapp_leads.E012",
                    )
                )
            seen.add((source, version))
            continue
        end = expiry(version, api=api)
        if end is None:
            continue
        when = end.on.isoformat() if end.exact else f"{end.on.isoformat()} at the latest"
        if end.expired(today):
            issues.append(
                Warning(
                    f"{label} is {version!r}{via}; Meta stopped serving {version} for the {API_NAMES[api]} "
                    f"after {when}, so those calls fail.",
                    hint=fix,
                    id="whatsapp_leads.W006",
                )
            )
        elif end.on - today <= timedelta(days=EXPIRY_WARNING_DAYS):
            issues.append(
                Warning(
                    f"{label} is {version!r}{via}; Meta stops serving {version} for the {API_NAMES[api]} "
                    f"after {when}.",
                    hint=fix,
                    id="whatsapp_leads.W007",
                )
            )
    return issues


@register()
def check_graph_versions(app_configs: Any = None, **kwargs: Any) -> list:
    return graph_version_issues(today=timezone.now().date())


# --- beat schedule ---------------------------------------------------------------------------------


@register()
def check_beat_intervals(app_configs: Any = None, **kwargs: Any) -> list:
    """The intervals whatsapp_leads.schedule reads when the host's Celery app starts."""
    from .schedule import JOBS, interval

    issues: list = []
    for _entry, _task, key in JOBS.values():
        try:
            interval(key)
        except ValueError as exc:
            issues.append(
                Error(
                    str(exc),
                    hint=f"Set {setting_label(key)} to a number of seconds, or 0 to leave the job out.",
                    id="whatsapp_leads.E013",
                )
            )
    return issues


# --- personal data: retention and consent keywords -------------------------------------------------

RETENTION_KEYS = ("RAW_BODY_RETENTION_DAYS", "MEDIA_RETENTION_DAYS", "CLOSED_LEAD_RETENTION_DAYS")
KEYWORD_KEYS = ("OPT_OUT_KEYWORDS", "OPT_IN_KEYWORDS")


def _whole_positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@register()
def check_retention(app_configs: Any = None, **kwargs: Any) -> list:
    """A retention period is a whole number of days or empty; a typo must not mean 'delete now'."""
    issues: list = []
    for key in RETENTION_KEYS:
        value = app_settings.raw(key)
        if value is None or _whole_positive(value):
            continue
        issues.append(
            Error(
                f"{setting_label(key)} is {value!r}.",
                hint=f"Set {setting_label(key)} to a whole number of days (at least 1), or None to keep "
                "the data forever. See docs/privacy.md.",
                id="whatsapp_leads.E014",
            )
        )
    size = app_settings.raw("RETENTION_BATCH_SIZE")
    if not _whole_positive(size):
        issues.append(
            Error(
                f"{setting_label('RETENTION_BATCH_SIZE')} is {size!r}.",
                hint=f"Set {setting_label('RETENTION_BATCH_SIZE')} to a whole number of rows, e.g. 1000.",
                id="whatsapp_leads.E014",
            )
        )
    return issues


@register()
def check_consent_keywords(app_configs: Any = None, **kwargs: Any) -> list:
    """Keyword lists are lists of words, and no word both stops and resumes marketing."""
    from .services.consent import normalise_keyword

    issues: list = []
    words: dict[str, set[str]] = {}
    for key in KEYWORD_KEYS:
        value = app_settings.raw(key)
        if (
            isinstance(value, str)
            or not isinstance(value, list | tuple)
            or not all(isinstance(v, str) and normalise_keyword(v) for v in value)
        ):
            issues.append(
                Error(
                    f"{setting_label(key)} is {value!r}.",
                    hint=f"Set {setting_label(key)} to a list of non-empty words, e.g. ['STOP', 'बंद'].",
                    id="whatsapp_leads.E015",
                )
            )
            continue
        words[key] = {normalise_keyword(v) for v in value}
    both = words.get("OPT_OUT_KEYWORDS", set()) & words.get("OPT_IN_KEYWORDS", set())
    if both:
        issues.append(
            Error(
                f"{', '.join(sorted(both))} is in both {setting_label('OPT_OUT_KEYWORDS')} and "
                f"{setting_label('OPT_IN_KEYWORDS')}.",
                hint="Each word either stops or resumes marketing; remove it from one list.",
                id="whatsapp_leads.E015",
            )
        )
    return issues


# --- ad loop: Conversions API events ---------------------------------------------------------------

# Meta refuses these for business messaging (subcode 2804066; the reference's "rejected" list).
REFUSED_EVENT_NAMES = frozenset({"Lead", "Contact", "Schedule", "CompleteRegistration", "SubmitApplication",
                                 "Subscribe", "StartTrial", "AddPaymentInfo", "Search"})  # fmt: skip


@register()
def check_conversion_events(app_configs: Any = None, **kwargs: Any) -> list:
    """CONVERSION_EVENTS maps stages (lead_created or a Lead status) to names Meta accepts here."""
    from .models import Lead

    label = setting_label("CONVERSION_EVENTS")
    raw = app_settings.CONVERSION_EVENTS
    stages = {"lead_created", *Lead.Status.values}
    hint = 'A dict like {"lead_created": "LeadSubmitted", "won": "Purchase"}; stages: ' + ", ".join(
        sorted(stages)
    )
    if not isinstance(raw, dict):
        return [Error(f"{label} is a {type(raw).__name__}.", hint=hint, id="whatsapp_leads.E017")]
    allowed = app_settings.CONVERSION_EVENT_NAMES
    issues: list = []
    for stage, name in raw.items():
        if stage not in stages or not isinstance(name, str) or not name:
            issues.append(Error(f"{label} maps {stage!r} to {name!r}.", hint=hint, id="whatsapp_leads.E017"))
        elif name in REFUSED_EVENT_NAMES or name not in allowed:
            issues.append(
                Warning(
                    f"{label} maps {stage!r} to {name!r}, which is not sent: "
                    + (
                        "Meta refuses it for business messaging."
                        if name in REFUSED_EVENT_NAMES
                        else f"{setting_label('CONVERSION_EVENT_NAMES')} does not list it."
                    ),  # fmt: skip
                    hint="Use LeadSubmitted, QualifiedLead or Purchase (add QualifiedLead to "
                    "CONVERSION_EVENT_NAMES after checking your dataset accepts it).",
                    id="whatsapp_leads.W011",
                )
            )
    return issues


# --- engagement and the first-response SLA ---------------------------------------------------------

KNOWN_ORIGINS = ("rep", "api", "echo", "greeting")


@register()
def check_sla_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """What counts as an answer, and the SLA checker's batch and re-assignment limits."""
    issues: list = []
    origins = app_settings.raw("RESPONSE_ORIGINS")
    label = setting_label("RESPONSE_ORIGINS")
    if not isinstance(origins, list | tuple) or not all(isinstance(o, str) for o in origins):
        issues.append(
            Error(
                f"{label} is {origins!r}.",
                hint=f"Set {label} to a list of outbound origins, e.g. ['rep', 'api', 'echo']. See docs/sla.md.",
                id="whatsapp_leads.E021",
            )
        )
    else:
        odd = [o for o in origins if o not in KNOWN_ORIGINS or o == "greeting"]
        if odd:
            issues.append(
                Warning(
                    f"{label} lists {odd!r}: "
                    + ("an automatic greeting would count as a person's answer." if "greeting" in odd
                       else "no message has that origin."),
                    hint=f"The origins are {', '.join(KNOWN_ORIGINS[:3])} (and greeting, never an answer).",
                    id="whatsapp_leads.W021",
                )
            )  # fmt: skip
    size = app_settings.raw("SLA_BATCH_SIZE")
    if not _whole_positive(size):
        issues.append(
            Error(
                f"{setting_label('SLA_BATCH_SIZE')} is {size!r}.",
                hint=f"Set {setting_label('SLA_BATCH_SIZE')} to a whole number of leads, e.g. 100.",
                id="whatsapp_leads.E021",
            )
        )
    limit = app_settings.raw("SLA_MAX_REASSIGNMENTS")
    if limit is not None and not (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0):
        issues.append(
            Error(
                f"{setting_label('SLA_MAX_REASSIGNMENTS')} is {limit!r}.",
                hint=f"Set {setting_label('SLA_MAX_REASSIGNMENTS')} to a whole number of re-assignments per lead "
                "(0: tell the managers instead of re-assigning), or None for no limit.",
                id="whatsapp_leads.E021",
            )
        )
    return issues
