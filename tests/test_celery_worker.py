"""Tasks through the real broker and a real prefork worker, as `make run` and production run them
(the rest of the suite runs Celery eagerly): the worker's children each keep their own connection
pool, and the threshold checks of what a task stored run after the commit in that child."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from alerts.models import Alert, AlertRule
from config.celery import app
from telemetry.models import BatteryReading
from tests import conftest
from tests.conftest import BASE_DIR
from tests.factories import make_battery

TASKS = 50  # one every 0.1 s: the child's live pusher runs while tasks come and go


@pytest.fixture
def worker(worlds, tmp_path):
    """`celery worker` with the prefork pool, on the committed test database and the test broker."""
    app.connection_for_write().default_channel.client.delete("celery")  # nothing left from another test
    log_path = Path(os.environ.get("WORKER_LOG_DIR", tmp_path)) / "worker.log"
    env = dict(
        os.environ,
        DATABASE_URL=conftest.test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="0",
        LOG_LEVEL="INFO",
    )
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
               "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log = log_path
    app.conf.task_always_eager = False  # this test's tasks go through the broker
    yield process
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    process.terminate()
    process.wait(20)


@pytest.fixture
def demo_battery_with_a_rule(worlds, committed_assets):
    """alpha's copy of the demo's first battery, and a rule every simulated reading of it breaks."""
    alpha = worlds["alpha"]
    battery = committed_assets(make_battery, "battery", serial="NB-RACK-01")
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        rule = AlertRule.objects.create(name="any voltage", source_type="battery", metric="voltage", operator=">",
                                        threshold=1, severity="warning", alert_type="voltage_seen",
                                        message="{value} V")  # fmt: skip
    connection.set_schema_to_public()
    yield battery
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        Alert.objects.filter(type="voltage_seen").delete()
        rule.delete()
    connection.set_schema_to_public()


def wait_for(condition, process, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.log.read_text()
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s; the worker said:\n{process.log.read_text()[-4000:]}")


def alerts_of(world, battery):
    with world.blocker.unblock(), schema_context(world.slug):
        found = list(Alert.objects.filter(type="voltage_seen", source_id=battery.serial).values_list("status"))
    connection.set_schema_to_public()
    return found


def test_tasks_sent_through_the_broker_store_readings_and_their_thresholds_are_checked(
    worlds, worker, threshold_checker, demo_battery_with_a_rule
):
    alpha = worlds["alpha"]
    for _ in range(TASKS):
        app.send_task("telemetry.tasks.simulate_demo_telemetry", args=[alpha.slug])
        time.sleep(0.1)

    wait_for(lambda: worker.log.read_text().count("succeeded in") >= TASKS, worker)
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        assert BatteryReading.objects.filter(asset_id=demo_battery_with_a_rule.pk).exists()
    connection.set_schema_to_public()
    assert wait_for(lambda: alerts_of(alpha, demo_battery_with_a_rule), worker) == [("firing",)]
    log = worker.log.read_text()
    assert "Traceback" not in log
    assert "has already been" not in log  # a child's pool closed under one of its threads
