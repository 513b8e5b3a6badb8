"""Production: refuses to start with a guessable secret key or debug on; HTTPS everywhere (secure
cookies, HSTS, the redirect, the proxy's header trusted), hashed static files, JSON logs."""

from django.core.exceptions import ImproperlyConfigured

from config import secret_key
from config.env import env_bool, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING, SECRET_KEY

VOLTWATCH_ENV = "production"
PRODUCTION = True
DEBUG = env_bool("DEBUG", False)

if weak_key := secret_key.weakness(SECRET_KEY):
    raise ImproperlyConfigured(
        f"VOLTWATCH_ENV=production needs SECRET_KEY set to a random value of {secret_key.MIN_LENGTH}+ "
        f"characters, and this one will not do: {weak_key} "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
if DEBUG:
    raise ImproperlyConfigured("VOLTWATCH_ENV=production refuses to start with DEBUG on.")

SITE_SCHEME = env_str("SITE_SCHEME", "https")
SITE_PORT = env_str("SITE_PORT", "")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# A request that reached the proxy over plain HTTP is sent to HTTPS here too, in case the proxy does
# not (/healthz answers before this, for probes inside the network).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
