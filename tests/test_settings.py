"""Production mode refuses unsafe settings before anything starts."""

import os
import subprocess
import sys

CHECK = "import django; django.setup()"


def _start(**env) -> subprocess.CompletedProcess:
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", VOLTWATCH_ENV="production", **env)
    environment.pop("SECRET_KEY", None) if "SECRET_KEY" not in env else None
    return subprocess.run([sys.executable, "-c", CHECK], env=environment, capture_output=True, text=True)


def test_production_refuses_the_default_secret_key():
    result = _start(DEBUG="0")

    assert result.returncode != 0
    assert "needs SECRET_KEY set to a random value" in result.stderr


def test_production_refuses_debug():
    result = _start(SECRET_KEY="x" * 50, DEBUG="1")

    assert result.returncode != 0
    assert "refuses to start with DEBUG on" in result.stderr


def test_production_starts_with_a_real_secret_and_debug_off():
    result = _start(SECRET_KEY="k" * 50, DEBUG="0")

    assert result.returncode == 0, result.stderr
