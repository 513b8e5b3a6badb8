"""The settings of the mode `VOLTWATCH_ENV` names: development (the default, `make run`), production
or test. Each mode's module starts from `base` and changes what differs."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str

_MODE = env_str("VOLTWATCH_ENV", "development")
if _MODE == "production":
    from config.settings.production import *  # noqa: F403
elif _MODE == "test":
    from config.settings.test import *  # noqa: F403
elif _MODE == "development":
    from config.settings.development import *  # noqa: F403
else:
    raise ImproperlyConfigured(f"VOLTWATCH_ENV={_MODE!r}: use development, production or test")
