"""The test suite (tests/services.py sets VOLTWATCH_ENV=test): production's error pages, no debug
toolbar of state kept between requests; otherwise as in development."""

from config.env import env_bool
from config.settings.base import *  # noqa: F403
from config.settings.base import STATIC_ROOT

VOLTWATCH_ENV = "test"
DEBUG = env_bool("DEBUG", False)

STATIC_ROOT.mkdir(exist_ok=True)
