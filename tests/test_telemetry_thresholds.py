"""Threshold rules on ingested readings: what raises an alert, and what resolves it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from alerts.models import Alert
from telemetry.services import set_asset_thresholds
from tests.factories import make_battery

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def battery(alpha):
    return make_battery(alpha, cell_count=4)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def send(world, battery, *values, start=T0):
        """One batch: a reading a second, with each of `values`. The test's transaction never
        commits: what the commit would start (the threshold checks) runs once the batch is stored."""
        body = {
            "readings": [
                {"asset": battery.serial, "time": (start + timedelta(seconds=i)).isoformat(), "values": v}
                for i, v in enumerate(values)
            ]
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = world.api().post("/api/v1/telemetry/readings", body, content_type="application/json")
        assert response.status_code == 201, response.content

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


def test_one_check_covers_the_batches_of_several_requests(alpha, battery):
    """In production the checks run once a second over every batch stored since: each asset is
    judged on all its readings, whichever request brought them."""
    from telemetry.batch import Reading, ReadingBatch
    from telemetry.live import check_thresholds

    other = make_battery(alpha, cell_count=4)

    def batch(*readings):
        built = ReadingBatch.from_readings("battery", [Reading(*reading) for reading in readings])
        built.derive_battery_values()
        return built

    first = batch((battery.pk, T0, {"soc": 50}), (battery.pk, T0 + timedelta(seconds=1), {"error_flags": 0}))
    second = batch(
        (other.pk, T0, {"temperature": 30}),
        (battery.pk, T0 + timedelta(seconds=2), {"soc": 3, "error_flags": 1}),
        (other.pk, T0 + timedelta(seconds=1), {"temperature": 80}),
    )
    with schema_context(alpha.slug):
        check_thresholds([first, second])
    connection.set_schema_to_public()
    assert open_alerts(alpha, battery).keys() == {"soc_low", "bms_error"}
    assert "3 %" in open_alerts(alpha, battery)["soc_low"]
    assert "80" in open_alerts(alpha, other)["temperature"]
