"""Production mode refuses unsafe settings before anything starts."""

import os
import secrets
import subprocess
import sys

import pytest

CHECK = "import django; django.setup()"
# A key as the README says to make one.
RANDOM_KEY = secrets.token_urlsafe(50)


def _start(*command: str, **env) -> subprocess.CompletedProcess:
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", VOLTWATCH_ENV="production", **env)
    environment.pop("SECRET_KEY", None) if "SECRET_KEY" not in env else None
    return subprocess.run(
        [sys.executable, *(command or ("-c", CHECK))], env=environment, capture_output=True, text=True
    )


def test_production_refuses_the_default_secret_key():
    result = _start(DEBUG="0")

    assert result.returncode != 0
    assert "needs SECRET_KEY set to a random value" in result.stderr


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("k" * 50, "it repeats itself or a few characters"),
        ("0123456789" * 6, "it repeats itself or a few characters"),
        ("a" * 40 + "bcdefghijk", "its characters carry about 69 bits (at least 128)"),
        (secrets.token_urlsafe(24), "it has 32 characters (at least 50)"),
        ("dev-insecure-voltwatch-secret-key-change-me-in-production-2026", "published in Voltwatch's repository"),
        ("X7-dev-insecure-voltwatch-" + secrets.token_urlsafe(40), "published in Voltwatch's repository"),
        ("change-me-to-50-random-characters-python-c-import-secrets-token-urlsafe", "published"),
        ("django-insecure-" + secrets.token_urlsafe(40), "published"),
    ],
    ids=["one-character", "a-repeated-block", "few-bits", "short", "development-key-and-suffix",
         "inside-a-random-key", "env-example", "django-template"],
)  # fmt: skip
def test_production_refuses_a_guessable_secret_key(key, reason):
    result = _start(SECRET_KEY=key, DEBUG="0")

    assert result.returncode != 0
    assert "needs SECRET_KEY set to a random value of 50+ characters" in result.stderr
    assert reason in result.stderr


def test_production_refuses_debug():
    result = _start(SECRET_KEY=RANDOM_KEY, DEBUG="1")

    assert result.returncode != 0
    assert "refuses to start with DEBUG on" in result.stderr


@pytest.mark.parametrize("key", [RANDOM_KEY, secrets.token_hex(25)], ids=["token_urlsafe(50)", "token_hex(25)"])
def test_production_starts_with_a_random_secret_and_debug_off(key):
    result = _start(SECRET_KEY=key, DEBUG="0")

    assert result.returncode == 0, result.stderr


def test_the_deploy_checks_find_no_security_issue_in_production():
    result = _start(
        "manage.py",
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        SECRET_KEY=RANDOM_KEY,
        DEBUG="0",
        DB_POOL_MAX_SIZE="0",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
