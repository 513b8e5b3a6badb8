"""Voltwatch settings shared by every mode, with the defaults of development (`make run`).

Everything comes from environment variables (see README, "Configuration"); the defaults make
`make run` work on a machine with nothing but Python installed. `production.py` and `test.py`
change what differs in their mode; `config.settings` picks the module from `VOLTWATCH_ENV`."""

from functools import partial
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config import embedded, secret_key
from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# --- Mode ---------------------------------------------------------------------------------------
VOLTWATCH_ENV = "development"
PRODUCTION = False
SECRET_KEY = env_str("SECRET_KEY", secret_key.DEVELOPMENT_KEY)
DEBUG = env_bool("DEBUG", True)

# --- Hosts and tenancy --------------------------------------------------------------------------
BASE_DOMAIN = env_str("BASE_DOMAIN", "localhost")
PUBLIC_SCHEMA_NAME = "public"
# Tenant domains are looked up in the database, so any host may reach the tenant middleware;
# an unknown one gets a 404 page there.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_SCHEME = env_str("SITE_SCHEME", "http")
SITE_PORT = env_str("SITE_PORT", "8000")

# --- Applications -------------------------------------------------------------------------------
SHARED_APPS = [
    "tenants",  # before django_tenants: its migrate_schemas command replaces django-tenants' own
    "django_tenants",
    "core",
    "outbox",
    "accounts",
    "provisioning",
    "config",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
]
TENANT_APPS = [
    # A tenant schema has its own users, sessions and login attempts: a user of one tenant
    # cannot even be named on another.
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.admin",
    "axes",
    "accounts",
    "portal",
    "alerts",
    "sites",
    "telemetry",
    "charging",
    "fleet",
    "chat",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Client"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants are cloned from a template schema instead of replaying every migration.
TENANT_BASE_SCHEMA = "tenant_template"
# Seconds a process remembers which tenant a host belongs to (tenants.host_cache); 0: ask every time.
TENANT_CACHE_SECONDS = env_int("TENANT_CACHE_SECONDS", 5)
# Seconds a process remembers an API key it found (accounts.key_cache; revocations apply at once).
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 10)
# Seconds the heartbeat fast path remembers a tenant's devices (fleet.heartbeats); 0: ask every time.
FLEET_DEVICE_CACHE_SECONDS = env_int("FLEET_DEVICE_CACHE_SECONDS", 60)
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_SUBFOLDER_PREFIX = None
# Set the search path when the schema changes, not before every query (it resets with the connection).
TENANT_LIMIT_SET_CALLS = True
ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False

MIDDLEWARE = [
    "config.health.HealthzMiddleware",
    "core.middleware.RequestContextMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "tenants.middleware.TenantMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tenants.middleware.TenantSuspendedMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserPreferencesMiddleware",
    "core.middleware.InputGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.platform",
            ],
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or embedded.postgres_url()
# Under ASGI each request runs in its own thread, so per-thread persistent connections would pile up:
# a process-wide psycopg pool hands connections out per request instead (django-tenants resets the
# search path whenever a connection is taken). DB_POOL_MAX_SIZE=0 turns the pool off.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
ORIGINAL_BACKEND = "core.postgresql"  # Django's, with a bounded check of pooled connections
# A database that is down or frozen must answer a request with a 503 within a second or two, not
# hold it: connecting gives up after DB_CONNECT_TIMEOUT_S, waiting for a pooled connection after
# DB_POOL_TIMEOUT_S, and each pooled connection is checked before use (a stale one, left from before
# a restart, or one that no longer answers, is replaced: core.db.check_pooled_connection).
DB_CONNECT_TIMEOUT_S = env_int("DB_CONNECT_TIMEOUT_S", 2)
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DB_CONNECT_TIMEOUT_S)
if env_int("DB_POOL_MAX_SIZE", 10):
    from core.db import check_pooled_connection

    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 1),
        "max_size": env_int("DB_POOL_MAX_SIZE", 10),
        "timeout": float(env_str("DB_POOL_TIMEOUT_S", "1.5")),
        "check": partial(check_pooled_connection, timeout=float(env_str("DB_CHECK_TIMEOUT_S", "0.5"))),
    }
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker -------------------------------------------------
REDIS_URL = env_str("REDIS_URL") or embedded.redis_url()
# Redis speeds requests up but holds nothing they cannot do without (core/redis_client.py): a call
# waits this long at most, and after a failure every path skips Redis for REDIS_BREAKER_SECONDS.
REDIS_TIMEOUT_S = float(env_str("REDIS_TIMEOUT_S", "0.5"))
REDIS_BREAKER_SECONDS = float(env_str("REDIS_BREAKER_SECONDS", "5"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Keys carry the tenant's schema so one tenant's cache entries never serve another.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # channels-redis waits for a page's next message with a 5 s blocking read: the socket
            # timeout must outlast it, or every idle websocket is cut (redis-py 8 defaults to 5 s).
            # A Redis that stops answering is still noticed, within 15 s.
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": 15,
                    "socket_connect_timeout": 2,
                    "socket_keepalive": True,
                    "retry_on_timeout": False,
                }
            ],
            "prefix": env_str("CHANNELS_PREFIX", "voltwatch"),
            # A socket whose server died without leaving its groups is forgotten after this long
            # (open sockets renew their place: core.consumers.GroupMembership); channels_redis' own
            # default is a day, during which every send still goes to it and it counts as a listener.
            "group_expiry": env_int("REALTIME_GROUP_EXPIRY_S", 90),
        },
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
# Every task has a time limit: a stuck one (a frozen server, a target that never answers) cannot hold
# a worker forever. The soft limit raises inside the task; the hard one kills its process. Tasks that
# may legitimately run longer (a tenant's housekeeping, rollups, retention) set their own.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT_S", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT_S", 90)


def every_tenant(task: str, seconds: float, schemas: list[str] | None = None) -> dict:
    """A beat entry running the tenant task `task` in every active tenant (or in `schemas`) every
    `seconds`, through the one fan-out task (tenants.tasks.for_each_tenant)."""
    return {"task": "tenants.tasks.for_each_tenant", "schedule": seconds, "args": [task, schemas]}


CELERY_BEAT_SCHEDULE: dict = {
    "platform-pulse": every_tenant("tenants.tasks.push_platform_pulse", 15.0),
    "alert-housekeeping": every_tenant("alerts.tasks.alert_housekeeping", 30.0),
    "offline-detection": every_tenant("fleet.tasks.detect_offline_devices", 30.0),
    "heartbeat-flush": every_tenant("fleet.tasks.flush_heartbeats", 10.0),
    # Keys revoked while Redis was down: the heartbeat fast path checks revocations in Redis only.
    "revocations-publish": every_tenant("accounts.tasks.publish_revocations", 30.0),
}

FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
ALERT_LINK_PATH = "/alerts/{id}/"

# `make run` feeds these demo tenants with simulated devices (empty: no simulation).
DEMO_SCHEMAS = env_list("DEMO_SCHEMAS", [])
if DEMO_SCHEMAS:
    CELERY_BEAT_SCHEDULE["demo-fleet"] = every_tenant("fleet.tasks.simulate_demo_fleet", 60.0, DEMO_SCHEMAS)
    CELERY_BEAT_SCHEDULE["demo-telemetry"] = every_tenant(
        "telemetry.tasks.simulate_demo_telemetry", env_int("DEMO_TELEMETRY_EVERY_S", 5), DEMO_SCHEMAS
    )
    # Demo charging sessions that ended since the last import (a tenant without the demo source: nothing).
    CELERY_BEAT_SCHEDULE["demo-charging"] = every_tenant(
        "charging.tasks.simulate_demo_charging", env_int("DEMO_CHARGING_EVERY_S", 600), DEMO_SCHEMAS
    )

# --- Kafka --------------------------------------------------------------------------------------
KAFKA_BOOTSTRAP_SERVERS = env_str("KAFKA_BOOTSTRAP_SERVERS")
# Readings go to the outbox (and from there to Kafka) when Kafka is configured.
OUTBOX_ENABLED = env_bool("OUTBOX_ENABLED", bool(KAFKA_BOOTSTRAP_SERVERS))
KAFKA_TOPICS = {
    "battery": env_str("KAFKA_TOPIC_BATTERY", "voltwatch.battery.readings"),
    "meter": env_str("KAFKA_TOPIC_METER", "voltwatch.meter.readings"),
}
KAFKA_TOPIC_PARTITIONS = env_int("KAFKA_TOPIC_PARTITIONS", 3)
KAFKA_MESSAGE_TIMEOUT_S = float(env_str("KAFKA_MESSAGE_TIMEOUT_S", "15"))

# --- Telemetry ----------------------------------------------------------------------------------
FOXBMS_DBC_PATH = env_str("FOXBMS_DBC_PATH")  # used when a battery type has no DBC of its own
TELEMETRY_MAX_BATCH = env_int("TELEMETRY_MAX_BATCH", 10_000)
TELEMETRY_RAW_RETENTION_DAYS = env_int("TELEMETRY_RAW_RETENTION_DAYS", 400)
TELEMETRY_ROLLUP_RETENTION_DAYS = env_int("TELEMETRY_ROLLUP_RETENTION_DAYS", 3650)
TELEMETRY_LIVE_FLUSH_S = float(env_str("TELEMETRY_LIVE_FLUSH_S", "0.05"))
TELEMETRY_THRESHOLD_FLUSH_S = float(env_str("TELEMETRY_THRESHOLD_FLUSH_S", "1"))
CELERY_BEAT_SCHEDULE["telemetry-rollups"] = every_tenant("telemetry.tasks.compute_tenant_rollups", 60.0)
CELERY_BEAT_SCHEDULE["telemetry-silence"] = every_tenant("telemetry.tasks.detect_tenant_silent_assets", 60.0)
CELERY_BEAT_SCHEDULE["telemetry-retention"] = every_tenant("telemetry.tasks.apply_tenant_retention", 3600.0)

# --- Charging -----------------------------------------------------------------------------------
# The seed's hourly cache refresh: an incremental import of every enabled charging source.
CHARGING_IMPORT_EVERY_S = float(env_str("CHARGING_IMPORT_EVERY_S", "3600"))
CELERY_BEAT_SCHEDULE["charging-import"] = every_tenant(
    "charging.tasks.import_charging_sources", CHARGING_IMPORT_EVERY_S
)
# How long an analysis's answer is kept for one filter set (an import that changes data drops it sooner).
CHARGING_CACHE_S = env_int("CHARGING_CACHE_S", 24 * 3600)

# --- Authentication and security ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginAttemptsBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.CompanyAdminBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:overview"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
# Preloading puts the base domain and every tenant host in browsers' built-in HTTPS-only list, which
# takes months to leave: an operator's decision (README, "Production checks"), not a default.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Production turns this on (config/settings/production.py); behind a proxy that redirects already,
# development and test leave it off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_PROXY_SSL_HEADER = None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self' ws: wss:; font-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)

# Request bodies above this size get a 413 before anything reads them.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# Bodies up to the limit stay in memory: a 10,000-reading batch (about 4.5 MB) spilled to a
# temporary file past Django's default 2.5 MB, written chunk by chunk from a worker thread.
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

# --- Email --------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / ".data" / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Voltwatch <no-reply@voltwatch.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation and time --------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- REST API -----------------------------------------------------------------------------------
API_KEY_RATE = env_str("API_KEY_RATE", "1200/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.PortalSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.IsTenantMember"],
    # JSON only, through the front door (core.decoding): any other content type is a 415.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.FastJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_KEY_RATE},
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.VoltwatchAutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Voltwatch API",
    "DESCRIPTION": (
        "Multi-tenant monitoring of batteries, meters, charge points and field devices. "
        "Call the API on your company's host with `Authorization: Api-Key <key>` "
        "(or `X-API-Key: <key>`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name (status, severity, kind, scopes) named once each.
    "ENUM_NAME_OVERRIDES": {
        "AlertStatusEnum": "alerts.models.Status",
        "SeverityEnum": "alerts.models.Severity",
        "DeviceStatusEnum": "fleet.models.DeviceStatus",
        "ApiKeyScopeEnum": "accounts.models.Scope",
        "AssetKindEnum": "telemetry.models.AssetKind",
        "ChannelKindEnum": "alerts.models.Channel.Kind",
        "EventSeverityEnum": ["info", "warning", "critical"],
    },
}

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)-7s [%(tenant)s %(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG) would print each of its records a second time, bare.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # While PostgreSQL is down the pool warns at every reconnection attempt (about once a second per
        # process); what is down is said once by whoever meets it (503s, "threshold checks paused", a
        # task skipped), so only its errors are kept.
        "psycopg.pool": {"level": "ERROR"},
    },
}
