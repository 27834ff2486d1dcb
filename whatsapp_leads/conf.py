"""One settings object for the app, in the manner of DRF's ``api_settings``.

Hosts set a single ``WHATSAPP_LEADS`` dict; anything they leave out takes the default below.
Values named in ``IMPORT_STRINGS`` are dotted paths (or lists of them) resolved on first use, so a
host can swap a class without forking; a path that does not import raises ``ImproperlyConfigured``
naming the key. The cache is dropped on ``setting_changed`` so ``override_settings`` works.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTING_NAME = "WHATSAPP_LEADS"
# The provider of conversations and webhooks that name none (``/whatsapp/webhook/``, old rows).
DEFAULT_PROVIDER = "meta"

# Meta's Graph API: the one place its address and the default version are written. v27.0 is the
# current Graph and Marketing API version (released 4 Nov 2026); graph/versions.py has the
# expiry dates the system checks compare against.
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v27.0"

DEFAULTS: dict[str, Any] = {
    # App secrets that may sign webhooks (several while a secret is being rotated).
    "APP_SECRETS": [],
    # The verify token typed into Meta's App Dashboard for the GET handshake.
    "VERIFY_TOKEN": "",
    # Cloud API access token and our business number (for sending and media download).
    "ACCESS_TOKEN": "",
    "PHONE_NUMBER_ID": "",
    # Username of the user who gets leads that no campaign rule claims.
    "DEFAULT_OWNER": "",
    # Marketing / Conversions API.
    "META_ACCESS_TOKEN": "",
    # Graph API address and version. The version may be set per API, because Meta retires
    # Marketing API versions sooner than the rest of the Graph API: CLOUD_API_VERSION (WhatsApp
    # Cloud API: media, sending, templates) and MARKETING_API_VERSION (Marketing/Insights and
    # Conversions APIs); empty means META_GRAPH_VERSION.
    "META_GRAPH_URL": DEFAULT_GRAPH_URL,
    "META_GRAPH_VERSION": DEFAULT_GRAPH_VERSION,
    "CLOUD_API_VERSION": "",
    "MARKETING_API_VERSION": "",
    "META_AD_ACCOUNT_IDS": [],
    # Region used to read numbers that arrive without a country code.
    "DEFAULT_PHONE_REGION": "IN",
    # Largest webhook body accepted; Meta documents "up to 3 MB", we accept 3 MiB.
    "MAX_BODY_BYTES": 3 * 1024 * 1024,
    # Request headers kept on each WebhookEvent (lower-case).
    "STORED_HEADERS": [
        "content-type",
        "content-length",
        "user-agent",
        "x-hub-signature-256",
        "x-forwarded-for",
        "x-request-id",
    ],
    # Processing retries: attempts per event and the base of the exponential backoff (seconds).
    "MAX_ATTEMPTS": 5,
    "RETRY_BACKOFF_SECONDS": 30,
    "RETRY_BACKOFF_MAX_SECONDS": 3600,
    # The sweep re-queues events still pending after this many seconds.
    "SWEEP_PENDING_AFTER_SECONDS": 300,
    # The beat schedule the app offers (whatsapp_leads.schedule): how often the sweep and the
    # campaign sync run, in seconds; 0 leaves the job out of the schedule. The sweep is cheap (three
    # indexed queries) and is what hands events back after a broker outage, so it runs often.
    "SWEEP_INTERVAL_SECONDS": 10,
    "CAMPAIGN_SYNC_INTERVAL_SECONDS": 3600,
    # How long the webhook view may spend trying to publish to the broker before giving up.
    "PUBLISH_MAX_RETRIES": 1,
    # Intake publishes at most one wake per this many seconds per process: a worker woken drains
    # the whole inbox in batches and keeps looking (every 20 ms, services.drain) until this long
    # after it woke, so the events stored in between are covered without a publish of their own
    # and wait a poll, not the window. A publish costs ~0.5 ms of the web process's CPU (Celery's
    # send_task); 0.05 s made it ~6 % of a webhook's at 1,300 webhooks/s. 0 publishes for every webhook.
    "WAKE_INTERVAL_SECONDS": 0.25,
    # Webhooks arriving while another request of the same process is storing one wait for it and
    # are then stored together, in one INSERT and one commit (services.intake); a 200 still waits
    # for its row's commit. False stores each in its own statement.
    "GROUP_COMMIT": True,
    # whatsapp_leads.wsgi.with_webhook_fast_path: webhook POSTs go straight to the view, outside
    # Django's middleware and signals (about 0.2 ms of Python less per webhook). False: the
    # wrapper passes everything to Django, for hosts whose middleware must see webhooks.
    "WEBHOOK_FAST_PATH": True,
    # Events a worker claims and processes together when it drains the inbox. A batch of statuses
    # costs a fixed 8 statements and 2 commits (bench.statuses_bench), so a larger one costs less
    # per status; 250 still keeps a batch's transaction and its row locks well under a second.
    "DRAIN_BATCH_SIZE": 250,
    # A worker drains for at most this long per task, then hands the rest to a fresh wake, so a
    # busy inbox never pins one task (and a warm shutdown never waits on it).
    "DRAIN_MAX_SECONDS": 10,
    # Queue for processing tasks.
    "TASK_QUEUE": None,
    # Media messages: download files through the Graph API into MEDIA_STORAGE, up to this size,
    # with this many attempts (exponential backoff from MEDIA_RETRY_BACKOFF_SECONDS).
    "MEDIA_DOWNLOAD": True,
    "MEDIA_MAX_BYTES": 16 * 1024 * 1024,
    "MEDIA_MAX_ATTEMPTS": 5,
    "MEDIA_RETRY_BACKOFF_SECONDS": 60,
    # Where downloaded files are kept: empty for a private FileSystemStorage under
    # MEDIA_ROOT/whatsapp_private with no URL; or a STORAGES alias, or a dotted path to a Storage
    # class or instance. Files are served only through the permission-checked admin view.
    "MEDIA_STORAGE": "",
    # WhatsApp Flows: {flow key: {answer name: lead field}}; the key matches the reply's flow_token
    # (exactly or as "key:...") or the answer named FLOW_ID_ANSWER. Non-Lead targets go to Lead.extra.
    "FLOW_FIELD_MAP": {},
    "FLOW_ID_ANSWER": "flow_id",
    # Routing: the time zone of the business's day (working hours, daily caps, per-day numbers);
    # empty means settings.TIME_ZONE. A lead that arrives when no eligible member is on duty goes
    # to the member whose shift starts soonest ("next_on_duty") or to the fallback owner ("fallback").
    "BUSINESS_TIME_ZONE": "",
    "OFF_HOURS_ROUTING": "next_on_duty",
    # Sending (the outbox): the WhatsApp Business Account whose templates are synced; the most
    # messages per second sent through one business number, shared by every worker (Meta's
    # default throughput is 80); attempts for sends Meta certainly did not accept (throttled,
    # 5xx, unreachable) with exponential backoff and jitter; (connect, read) timeouts of a send.
    "BUSINESS_ACCOUNT_ID": "",
    "SEND_RATE_PER_NUMBER": 80,
    "SEND_RATE_BACKEND": "",  # "redis", "database", or empty: Redis when the Celery broker is Redis
    "SEND_MAX_ATTEMPTS": 8,
    "SEND_RETRY_BACKOFF_SECONDS": 2,
    "SEND_RETRY_BACKOFF_MAX_SECONDS": 300,
    "SEND_TIMEOUT_SECONDS": (5.0, 20.0),
    # Opening a lead in the admin marks its received messages as read on WhatsApp (blue ticks).
    "MARK_READ_ON_OPEN": False,
    # Sales workspace: e-mail the owner of a newly assigned lead (Django's e-mail backend), from
    # this address (empty: DEFAULT_FROM_EMAIL), with links starting with ADMIN_ORIGIN.
    "NOTIFY_OWNER_BY_EMAIL": False,
    "NOTIFY_EMAIL_FROM": "",
    "ADMIN_ORIGIN": "",
    # How often templates are synced from the WhatsApp Business Account (beat; 0 leaves it out).
    "TEMPLATE_SYNC_INTERVAL_SECONDS": 3600,
    # Personal data (DPDP Act; docs/privacy.md). Retention periods in days, each empty (None) by
    # default: kept forever. Raw webhook bodies are dropped N days after processing (the row and
    # its outcome stay); downloaded media files are deleted N days after download; won or lost
    # leads with no message for N days are erased (anonymised). Applied by the retention beat job
    # (RETENTION_INTERVAL_SECONDS; 0 leaves it out) and manage.py whatsapp_retention, in batches.
    "RAW_BODY_RETENTION_DAYS": None,
    "MEDIA_RETENTION_DAYS": None,
    "CLOSED_LEAD_RETENTION_DAYS": None,
    "RETENTION_BATCH_SIZE": 1000,
    "RETENTION_INTERVAL_SECONDS": 3600,
    # A text message that is exactly one of these words (any case, surrounding spaces and
    # punctuation ignored) stops marketing messages, like Meta's user_preferences "stop"; one of
    # the opt-in words resumes them.
    "OPT_OUT_KEYWORDS": ["STOP", "UNSUBSCRIBE", "बंद", "बंद करें", "रोकें", "रोको"],
    "OPT_IN_KEYWORDS": ["START", "शुरू", "शुरू करें"],
    # Twilio (only read when "whatsapp_leads.providers.twilio.TwilioProvider" is in PROVIDERS): the
    # account, its auth tokens (several while one is rotated; the first is used for API calls),
    # the API's address, our WhatsApp sender ("whatsapp:+E.164"), the webhook's public URL as typed
    # into Twilio's console (signatures cover it; also sent as StatusCallback), and template names
    # ("name" or "name:language") to Content API SIDs (HX...).
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKENS": [],
    "TWILIO_API_URL": "https://api.twilio.com",
    "TWILIO_WHATSAPP_FROM": "",
    "TWILIO_PUBLIC_URL": "",
    "TWILIO_CONTENT_SIDS": {},
    # --- ad loop (Conversions API, spend, UTM, location) ---------------------------------------
    # Conversions API for business messaging: the dataset (empty: looked up once per WhatsApp
    # Business Account with GET /{waba_id}/dataset; BUSINESS_ACCOUNT_ID when a lead's thread names
    # none), and Meta's test-events code (empty in production).
    "META_DATASET_ID": "",
    "META_TEST_EVENT_CODE": "",
    # Stage -> event name: "lead_created" (a lead that came from an ad) or a Lead status value.
    "CONVERSION_EVENTS": {"lead_created": "LeadSubmitted", "won": "Purchase"},
    # Event names Meta accepts for business messaging. Disputed (see the README): the default is
    # the live-verified set; "Lead" is never sent whatever this says (Meta refuses it here).
    "CONVERSION_EVENT_NAMES": ["LeadSubmitted", "Purchase", "AddToCart", "InitiateCheckout", "ViewContent"],
    "CONVERSION_MAX_ATTEMPTS": 8,
    "CONVERSION_RETRY_BACKOFF_SECONDS": 60,
    "CONVERSION_RETRY_BACKOFF_MAX_SECONDS": 3600,
    "CONVERSIONS_SWEEP_INTERVAL_SECONDS": 60,
    # A deal's currency when the person who marks it won gives none (ISO 4217).
    "DEAL_CURRENCY": "INR",
    # Spend from the Marketing API insights: how often, how many trailing days each run re-reads
    # (Meta restates figures for up to 28 days), and the action counted as a conversation started.
    "SPEND_SYNC_INTERVAL_SECONDS": 6 * 3600,
    "SPEND_SYNC_DAYS": 28,
    "INSIGHTS_CONVERSATION_ACTION": "onsite_conversion.messaging_conversation_started_7d",
    # --- end ad loop ------------------------------------------------------------------------------
    # Engagement and the first-response SLA (docs/sla.md). Outbound origins that count as a person's
    # answer (first response time, response times, awaiting reply, the SLA): "rep" (the reply box),
    # "api" (the host's send endpoint), "echo" (typed in the WhatsApp Business app; drop it when the
    # app's automatic greeting/away messages would pass for answers). "greeting" is never one.
    "RESPONSE_ORIGINS": ["rep", "api", "echo"],
    # How often beat runs the SLA checker (0 leaves it out), how many due leads one short transaction
    # works on, and how many times one unanswered lead is re-assigned before the managers are told.
    "SLA_CHECK_SECONDS": 60,
    "SLA_BATCH_SIZE": 100,
    "SLA_MAX_REASSIGNMENTS": 3,
    # Swappable behaviour (import strings).
    "ADAPTER": "whatsapp_leads.adapter.LeadAdapter",
    # Webhook providers (import strings of whatsapp_leads.providers.base.Provider subclasses);
    # each one's webhook is /whatsapp/webhook/<name>/.
    "PROVIDERS": ["whatsapp_leads.providers.meta.MetaProvider"],
}

# Keys whose value is a dotted path, or a list of them, resolved on first attribute access.
IMPORT_STRINGS = ("ADAPTER", "PROVIDERS")


def setting_label(name: str) -> str:
    """How a key is named in messages: ``WHATSAPP_LEADS['ADAPTER']``."""
    return f"{SETTING_NAME}[{name!r}]"


def import_from_setting(value: Any, *, setting: str) -> Any:
    """Resolve one dotted path named by ``setting``; anything not a string is returned as is.

    The error names the setting, so a typo in a host's settings reads as
    ``WHATSAPP_LEADS['ADAPTER']: could not import 'x.y': No module named 'x'``.
    """
    if not isinstance(value, str):
        return value
    try:
        return import_string(value)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{setting}: could not import {value!r}: {exc}") from exc


def perform_import(value: Any, *, name: str) -> Any:
    """The value of import-string key ``name`` resolved: one object, or a list for a list."""
    if isinstance(value, list | tuple):
        return [
            import_from_setting(item, setting=f"{setting_label(name)}[{i}]") for i, item in enumerate(value)
        ]
    return import_from_setting(value, setting=setting_label(name))


class AppSettings:
    """Attribute access to ``WHATSAPP_LEADS`` merged over ``DEFAULTS``."""

    def __init__(self, defaults: dict[str, Any], import_strings: tuple[str, ...]) -> None:
        self.defaults = defaults
        self.import_strings = import_strings
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        """The host's dict; anything else reads as empty (system check E004 reports it)."""
        value = getattr(settings, SETTING_NAME, {})
        return value if isinstance(value, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name not in self.defaults:
            raise AttributeError(f"Invalid {SETTING_NAME} setting: {name!r}")
        if name in self._cache:
            return self._cache[name]
        value = self.user_settings.get(name, self.defaults[name])
        if name in self.import_strings:
            value = perform_import(value, name=name)
        self._cache[name] = value
        return value

    def raw(self, name: str) -> Any:
        """The value as the host wrote it (or the default), import strings unresolved; for checks."""
        return self.user_settings.get(name, self.defaults[name])

    @property
    def graph_url(self) -> str:
        """The Graph API's base URL (``META_GRAPH_URL``; an empty value means Meta's)."""
        return (self.META_GRAPH_URL or DEFAULT_GRAPH_URL).rstrip("/")

    @property
    def graph_version(self) -> str:
        """``META_GRAPH_VERSION``, the version every API uses unless given its own."""
        return (self.META_GRAPH_VERSION or DEFAULT_GRAPH_VERSION).strip()

    @property
    def cloud_api_version(self) -> str:
        """Version for the WhatsApp Cloud API (media, sending, templates)."""
        return (self.CLOUD_API_VERSION or "").strip() or self.graph_version

    @property
    def marketing_api_version(self) -> str:
        """Version for the Marketing (Insights) and Conversions APIs, which Meta retires sooner."""
        return (self.MARKETING_API_VERSION or "").strip() or self.graph_version

    @property
    def app_secrets(self) -> list[str]:
        """Secrets as a clean list; a single string (or comma-separated string) is accepted too."""
        raw = self.APP_SECRETS
        if isinstance(raw, str):
            raw = raw.split(",")
        return [s.strip() for s in raw if s and s.strip()]

    def reload(self) -> None:
        self._cache.clear()


app_settings = AppSettings(DEFAULTS, IMPORT_STRINGS)


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        app_settings.reload()


setting_changed.connect(_reload)
