"""Threshold rules on ingested readings: what raises an alert, and what resolves it."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from alerts.models import Alert
from telemetry.ingest import thresholds
from telemetry.models import UncheckedReadings
from telemetry.services import set_asset_thresholds
from tests import conftest
from tests.factories import make_battery

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def battery(alpha):
    return make_battery(alpha, cell_count=4)


def post(world, battery, *values, start=T0):
    """One batch: a reading a second, with each of `values`."""
    body = {
        "readings": [
            {"asset": battery.serial, "time": (start + timedelta(seconds=i)).isoformat(), "values": v}
            for i, v in enumerate(values)
        ]
    }
    response = world.api().post("/api/v1/telemetry/readings", body, content_type="application/json")
    assert response.status_code == 201, response.content


@pytest.fixture
def send(check_thresholds):
    def send(world, battery, *values, start=T0):
        """One batch, then the threshold checker's next round."""
        post(world, battery, *values, start=start)
        check_thresholds(world)

    return send


def open_alerts(world, battery) -> dict[str, str]:
    with schema_context(world.slug):
        alerts = Alert.objects.filter(source_id=battery.serial).exclude(status="resolved")
        found = {alert.type: alert.message for alert in alerts}
    connection.set_schema_to_public()
    return found


def cells(*voltages):
    return {"voltage": round(sum(voltages), 2), "cell_voltages": list(voltages)}


def test_readings_within_every_bound_raise_nothing(alpha, battery, send):
    send(alpha, battery, {**cells(3.3, 3.31, 3.29, 3.3), "soc": 60, "temperature": 25, "error_flags": 0})
    assert open_alerts(alpha, battery) == {}


def test_a_cell_above_the_general_threshold_raises_its_alert(alpha, battery, send):
    send(alpha, battery, cells(3.3, 4.3, 3.29, 3.3))
    assert "4.3 V" in open_alerts(alpha, battery)["cell_overvoltage"]


def test_a_spike_inside_a_batch_raises_though_the_batch_ends_within_bounds(alpha, battery, send):
    send(alpha, battery, {"soc": 50}, {"soc": 4}, {"soc": 48})
    assert "4 %" in open_alerts(alpha, battery)["soc_low"]


def test_a_batterys_own_threshold_applies_below_the_general_one(alpha, battery, send):
    with schema_context(alpha.slug):
        set_asset_thresholds("battery", battery, {"cell_overvoltage": 3.6})
    connection.set_schema_to_public()
    send(alpha, battery, cells(3.3, 3.62, 3.29, 3.3))
    assert "3.62 V" in open_alerts(alpha, battery)["cell_overvoltage"]


def test_readings_back_within_bounds_resolve_the_open_alert(alpha, battery, send):
    send(alpha, battery, {"temperature": 70})
    assert "temperature" in open_alerts(alpha, battery)
    send(alpha, battery, {"temperature": 30}, start=T0 + timedelta(minutes=1))
    assert open_alerts(alpha, battery) == {}


def test_bms_error_flags_raise_with_their_value(alpha, battery, send):
    send(alpha, battery, {"error_flags": 0}, {"error_flags": 5})
    assert "5" in open_alerts(alpha, battery)["bms_error"]


def test_one_check_covers_the_batches_of_several_requests(alpha, battery, check_thresholds):
    """The checker runs once a second over every batch stored since: each asset is judged on all
    its readings, whichever request brought them."""
    other = make_battery(alpha, cell_count=4)
    post(alpha, battery, {"soc": 50}, {"error_flags": 0})
    post(alpha, other, {"temperature": 30})
    post(alpha, battery, {"soc": 3, "error_flags": 1}, start=T0 + timedelta(seconds=2))
    post(alpha, other, {"temperature": 80}, start=T0 + timedelta(seconds=1))
    assert check_thresholds(alpha) == 2
    assert open_alerts(alpha, battery).keys() == {"soc_low", "bms_error"}
    assert "3 %" in open_alerts(alpha, battery)["soc_low"]
    assert "80" in open_alerts(alpha, other)["temperature"]


def unchecked(world) -> list[tuple]:
    with schema_context(world.slug):
        rows = list(UncheckedReadings.objects.values_list("kind", "asset_id", "since", "until"))
    connection.set_schema_to_public()
    return rows


def test_stored_readings_wait_for_their_check_in_the_database(alpha, battery):
    """What is to be checked commits with the readings: a process that dies after the commit and
    before the check leaves it for the checker."""
    post(alpha, battery, {"soc": 50}, {"soc": 3}, {"soc": 40})
    post(alpha, battery, {"soc": 41}, start=T0 - timedelta(minutes=5))  # late: widens the range back
    assert unchecked(alpha) == [("battery", battery.pk, T0 - timedelta(minutes=5), T0 + timedelta(seconds=2))]
    assert open_alerts(alpha, battery) == {}


def test_a_check_forgets_what_it_checked(alpha, battery, check_thresholds):
    post(alpha, battery, {"soc": 50})
    assert check_thresholds(alpha) == 1
    assert unchecked(alpha) == []
    assert check_thresholds(alpha) == 0


def test_the_range_of_a_checker_that_died_is_checked_once_its_lease_expires(alpha, battery, check_thresholds):
    post(alpha, battery, {"soc": 3})
    with schema_context(alpha.slug), connection.cursor() as cursor:  # what a checker killed mid-check leaves
        cursor.execute(
            "UPDATE telemetry_unchecked SET checking_since = since, checking_until = until, since = NULL, "
            "until = NULL, lease_expires = now() + interval '1 minute'"
        )
    connection.set_schema_to_public()
    assert check_thresholds(alpha) == 0  # still leased: another checker may be at it
    with schema_context(alpha.slug), connection.cursor() as cursor:
        cursor.execute("UPDATE telemetry_unchecked SET lease_expires = now() - interval '1 second'")
    connection.set_schema_to_public()
    assert check_thresholds(alpha) == 1
    assert "3 %" in open_alerts(alpha, battery)["soc_low"]
    assert unchecked(alpha) == []


def test_readings_stored_while_a_check_runs_are_checked_by_the_next(alpha, battery, check_thresholds, monkeypatch):
    evaluate = thresholds.evaluate_ranges

    def evaluate_while_a_device_sends(kind, ranges):
        evaluate(kind, ranges)
        monkeypatch.setattr(thresholds, "evaluate_ranges", evaluate)
        post(alpha, battery, {"soc": 2}, start=T0 + timedelta(minutes=1))

    monkeypatch.setattr(thresholds, "evaluate_ranges", evaluate_while_a_device_sends)
    post(alpha, battery, {"soc": 50})
    check_thresholds(alpha)
    assert open_alerts(alpha, battery) == {}
    assert unchecked(alpha) == [("battery", battery.pk, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1))]
    check_thresholds(alpha)
    assert "2 %" in open_alerts(alpha, battery)["soc_low"]
    assert unchecked(alpha) == []


def test_a_tenants_checks_see_none_of_another_tenants_readings(alpha, beta, battery, check_thresholds):
    post(alpha, battery, {"soc": 3})
    assert check_thresholds(beta) == 0
    assert unchecked(alpha) != []


def test_the_checker_process_raises_the_alerts_of_committed_readings(worlds, committed_assets):
    """`manage.py check_thresholds`, as the launcher runs it, for readings a server committed."""
    alpha = worlds["alpha"]
    battery = committed_assets(make_battery, "battery", cell_count=4)
    with alpha.blocker.unblock():
        post(alpha, battery, {"soc": 3})
    env = dict(os.environ, DATABASE_URL=conftest.test_database_url(), REDIS_URL=settings.REDIS_URL)
    done = subprocess.run(
        [sys.executable, "manage.py", "check_thresholds", "--once"],
        cwd=conftest.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Checked the readings of ")
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        raised = list(Alert.objects.filter(source_id=battery.serial).values_list("type", "status"))
        left = UncheckedReadings.objects.filter(kind="battery", asset_id=battery.pk).exists()
        Alert.objects.filter(source_id=battery.serial).delete()
    connection.set_schema_to_public()
    assert raised == [("soc_low", "firing")]
    assert not left
