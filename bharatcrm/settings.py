"""Host settings. Every secret and deployment choice comes from the environment (``.env`` honoured).

The embedded default (no variables set) is SQLite plus kombu's filesystem broker, so ``make run``
works on a machine with nothing but Python. Set ``DATABASE_URL`` and ``CELERY_BROKER_URL`` for
PostgreSQL and Redis; nothing else changes.
"""

import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("BHARATCRM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]", "testserver"]),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
TESTING = "pytest" in sys.modules
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DEBUG=true for a throwaway per-process key).")
    SECRET_KEY = get_random_secret_key()
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "whatsapp_leads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bharatcrm.urls"
WSGI_APPLICATION = "bharatcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share the file: bharatcrm.sqlite runs it in WAL (readers beside
    # one writer), takes the write lock up front (BEGIN IMMEDIATE, so workers queue instead of
    # deadlocking) and hands the lock over within milliseconds instead of SQLite's long back-off.
    # synchronous=NORMAL: a commit is in the WAL before the 200 goes out, so a killed process loses
    # nothing; only an OS crash or power cut before the next checkpoint can lose the last commits.
    # SQLITE_SYNCHRONOUS=FULL fsyncs every commit (survives power loss; each webhook pays an fsync).
    DATABASES["default"]["ENGINE"] = "bharatcrm.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "synchronous": env("SQLITE_SYNCHRONOUS", default="NORMAL"),
        }
    )
# Kept connections on every engine: opening one costs a round trip on PostgreSQL and ~3 ms on
# SQLite (connect, the pragmas above, Django's SQL functions), about as long as a whole webhook.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="Asia/Kolkata")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# The host's own styles (the landing page); the app and the admin bring theirs.
STATICFILES_DIRS = [BASE_DIR / "bharatcrm" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Meta may post up to 3 MB; the webhook view enforces its own limit, this keeps any middleware
# that touches request.body from failing first.
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # Fanout exchanges (remote control, mingle, gossip, ``celery inspect``); kombu's default is
        # ``control/`` in the working directory, which would litter the repository root.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        # kombu polls the folder once a second by default: a burst would wait up to a second per
        # wake. A listing of a small folder every 0.1 s costs nothing measurable.
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The app's periodic jobs (the sweep, the hourly campaign sync) are merged into the beat schedule
# by bharatcrm/celery.py from whatsapp_leads.schedule; add the host's own jobs here.
CELERY_BEAT_SCHEDULE: dict = {}

# --- REST API (/whatsapp/api/) ----------------------------------------------------------------
# The app uses whatever authentication the host configures; these two are examples. Basic comes
# first so an API client without credentials gets 401 with a WWW-Authenticate challenge; browsers
# logged in to the admin are recognised by their session. Over the internet serve it over HTTPS
# only, and prefer tokens (rest_framework.authtoken, OAuth) for machines.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # For machines: `Authorization: Token <key>` (keys made in the admin or with
        # `manage.py drf_create_token <username>`); no password hashing on every request.
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The app's schema views set their own title and UI files; these make `manage.py spectacular` agree.
SPECTACULAR_SETTINGS = {
    "TITLE": "whatsapp_leads REST API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "whatsapp_leads.models.Lead.Status",
        "MessageStatusEnum": "whatsapp_leads.models.Message.Status",
    },
}

# --- whatsapp_leads ------------------------------------------------------------------------------
WHATSAPP_LEADS = {
    "APP_SECRETS": env.list("WHATSAPP_APP_SECRET", default=[]),
    "VERIFY_TOKEN": env("WHATSAPP_VERIFY_TOKEN", default=""),
    "ACCESS_TOKEN": env("WHATSAPP_ACCESS_TOKEN", default=""),
    "PHONE_NUMBER_ID": env("WHATSAPP_PHONE_NUMBER_ID", default=""),
    "DEFAULT_OWNER": env("WHATSAPP_DEFAULT_OWNER", default=""),
    "META_ACCESS_TOKEN": env("META_ACCESS_TOKEN", default=""),
    "META_AD_ACCOUNT_IDS": env.list("META_AD_ACCOUNT_IDS", default=[]),
    "DEFAULT_PHONE_REGION": env("WHATSAPP_DEFAULT_PHONE_REGION", default="IN"),
    # Sending: the WABA whose templates are synced, the per-number send rate, mark-read on open.
    "BUSINESS_ACCOUNT_ID": env("WHATSAPP_BUSINESS_ACCOUNT_ID", default=""),
    "SEND_RATE_PER_NUMBER": env.int("WHATSAPP_SEND_RATE_PER_NUMBER", default=80),
    "MARK_READ_ON_OPEN": env.bool("WHATSAPP_MARK_READ_ON_OPEN", default=False),
    # Conversions API (ad loop): the dataset (empty: looked up for the WABA), and Meta's test-events code (staging only).
    "META_DATASET_ID": env("META_DATASET_ID", default=""),
    "META_TEST_EVENT_CODE": env("META_TEST_EVENT_CODE", default=""),
    "NOTIFY_OWNER_BY_EMAIL": env.bool("WHATSAPP_NOTIFY_OWNER_BY_EMAIL", default=False),
    "ADMIN_ORIGIN": env.str("WHATSAPP_ADMIN_ORIGIN", default=""),
}
# Twilio as a second provider: enabled when TWILIO_AUTH_TOKEN is set (webhook /whatsapp/webhook/twilio/).
if env.list("TWILIO_AUTH_TOKEN", default=[]):
    WHATSAPP_LEADS.update(
        PROVIDERS=[
            "whatsapp_leads.providers.meta.MetaProvider",
            "whatsapp_leads.providers.twilio.TwilioProvider",
        ],
        TWILIO_ACCOUNT_SID=env("TWILIO_ACCOUNT_SID", default=""),
        TWILIO_AUTH_TOKENS=env.list("TWILIO_AUTH_TOKEN", default=[]),
        TWILIO_API_URL=env("TWILIO_API_URL", default="https://api.twilio.com"),
        TWILIO_WHATSAPP_FROM=env("TWILIO_WHATSAPP_FROM", default=""),
        TWILIO_PUBLIC_URL=env("TWILIO_PUBLIC_URL", default=""),
    )
# Graph API address and versions: set only when the environment says so, so the app's defaults
# (whatsapp_leads.conf) are written in one place. The Cloud and Marketing API versions fall back
# to META_GRAPH_VERSION.
for _key, _variable in (
    ("META_GRAPH_URL", "META_GRAPH_URL"),
    ("META_GRAPH_VERSION", "META_GRAPH_VERSION"),
    ("CLOUD_API_VERSION", "WHATSAPP_CLOUD_API_VERSION"),
    ("MARKETING_API_VERSION", "META_MARKETING_API_VERSION"),
):
    if env(_variable, default=""):
        WHATSAPP_LEADS[_key] = env(_variable)
# Intake's wake coalescing (whatsapp_leads.conf WAKE_INTERVAL_SECONDS); 0 publishes for every webhook.
if env("WHATSAPP_WAKE_INTERVAL_SECONDS", default=""):
    WHATSAPP_LEADS["WAKE_INTERVAL_SECONDS"] = env.float("WHATSAPP_WAKE_INTERVAL_SECONDS")
# Intake's group commit (whatsapp_leads.conf GROUP_COMMIT), on unless the environment turns it off.
if env("WHATSAPP_GROUP_COMMIT", default=""):
    WHATSAPP_LEADS["GROUP_COMMIT"] = env.bool("WHATSAPP_GROUP_COMMIT")
# Webhook POSTs answered outside Django's middleware (bharatcrm/wsgi.py, whatsapp_leads.wsgi).
if env("WHATSAPP_WEBHOOK_FAST_PATH", default=""):
    WHATSAPP_LEADS["WEBHOOK_FAST_PATH"] = env.bool("WHATSAPP_WEBHOOK_FAST_PATH")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
