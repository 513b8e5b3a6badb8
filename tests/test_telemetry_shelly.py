"""Shelly meters: the seed's webhook (GET and POST, key in the URL) and Gen2 status/notifications."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from accounts.services import create_api_key
from alerts.models import Alert
from telemetry.models import Meter, MeterReading
from tests.factories import make_meter

TS = 1795500000  # 2026-11-24T…Z


def meter_key(world, meter) -> str:
    with schema_context(world.slug):
        _key, token = create_api_key(name="shelly", scopes=["ingest"], bound_to=f"meter:{meter.pk}")
    connection.set_schema_to_public()
    return token


def readings(world):
    with schema_context(world.slug):
        rows = list(MeterReading.objects.order_by("time"))
    connection.set_schema_to_public()
    return rows


@pytest.fixture
def meter(alpha):
    return make_meter(alpha, device_id="shellypro1pm-30c6f782d2b8")


@pytest.fixture
def key(alpha, meter):
    return meter_key(alpha, meter)


def full_status(ts=TS, apower=1520.4, total=12345.678):
    return {
        "src": "shellypro1pm-30c6f782d2b8",
        "dst": "voltwatch",
        "method": "NotifyFullStatus",
        "params": {
            "ts": ts + 0.12,
            "ble": {},
            "cloud": {"connected": False},
            "switch:0": {
                "id": 0,
                "source": "init",
                "output": True,
                "apower": apower,
                "voltage": 231.2,
                "freq": 50.0,
                "current": 6.61,
                "pf": 0.99,
                "aenergy": {"total": total, "by_minute": [25.3, 25.1, 24.9], "minute_ts": ts},
                "temperature": {"tC": 41.2, "tF": 106.2},
            },
            "sys": {"mac": "30C6F782D2B8", "unixtime": ts},
        },
    }


def notify(ts, switch):
    return {
        "src": "shellypro1pm-30c6f782d2b8",
        "dst": "voltwatch",
        "method": "NotifyStatus",
        "params": {"ts": ts, "switch:0": {"id": 0, **switch}},
    }


def post(world, key, body):
    return world.http().post(f"/webhook/{key}/", body, content_type="application/json")


def test_the_seed_webhook_takes_a_post_json_and_stamps_the_time(alpha, key):
    response = post(alpha, key, {"power": 120.5, "voltage": 230.1, "current": 0.52, "energy": 10.2})
    assert response.status_code == 201
    [row] = readings(alpha)
    assert (row.power, row.voltage, row.current, row.energy_total_wh) == (120.5, 230.1, 0.52, 10.2)
    assert abs((datetime.now(UTC) - row.time).total_seconds()) < 5


def test_the_seed_webhook_takes_a_get_query_string(alpha, key):
    response = alpha.http().get(f"/webhook/{key}/?power=100.3&voltage=230.0&current=0.43&energy=8.9")
    assert response.status_code == 201
    assert readings(alpha)[0].power == 100.3


def test_the_key_may_also_be_given_in_the_query_string(alpha, meter, key):
    make_meter(alpha, device_id="shellypro1pm-0000000000aa")  # another meter of the company
    response = alpha.http().get(f"/webhook/?key={key}&power=100.3")
    assert response.status_code == 201
    assert [(row.asset_id, row.power) for row in readings(alpha)] == [(meter.pk, 100.3)]


def test_a_tenant_ingest_key_names_the_meter_by_device_id(alpha, meter):
    make_meter(alpha, device_id="shellypro1pm-0000000000aa")  # not named: gets nothing
    response = alpha.http().get(f"/webhook/{alpha.api_token}/?device={meter.device_id}&power=99")
    assert response.status_code == 201
    assert [(row.asset_id, row.power) for row in readings(alpha)] == [(meter.pk, 99.0)]


def test_a_webhook_without_a_key_is_refused(alpha, meter):
    assert alpha.http().get("/webhook/?power=1").status_code in (401, 403)


def test_another_tenants_key_is_refused(alpha, beta, meter):
    beta_meter = make_meter(beta)
    token = meter_key(beta, beta_meter)
    assert alpha.http().get(f"/webhook/{token}/?power=1").status_code == 401


def test_a_bad_number_names_the_field_and_stores_nothing(alpha, key):
    response = alpha.http().get(f"/webhook/{key}/?power=lots&voltage=230")
    assert response.status_code == 400
    assert "values.power" in response.json()["fields"]
    assert readings(alpha) == []


def test_a_full_status_notification_is_a_complete_reading_at_the_device_time(alpha, key):
    assert post(alpha, key, full_status()).status_code == 201
    [row] = readings(alpha)
    assert row.time == datetime.fromtimestamp(TS + 0.12, tz=UTC)
    assert (row.power, row.voltage, row.current, row.pf, row.frequency) == (1520.4, 231.2, 6.61, 0.99, 50.0)
    assert (row.energy_total_wh, row.temperature, row.output) == (12345.678, 41.2, True)


def test_a_partial_notification_is_merged_on_the_last_known_status(alpha, key):
    post(alpha, key, full_status())
    post(alpha, key, notify(TS + 60, {"apower": 3890.2, "current": 16.9}))
    row = readings(alpha)[1]
    assert (row.power, row.current) == (3890.2, 16.9)
    assert (row.voltage, row.pf, row.temperature) == (231.2, 0.99, 41.2)  # unchanged, from the full status


def test_energy_is_the_counter_difference_across_notifications(alpha, key):
    post(alpha, key, full_status(total=12345.678))
    post(alpha, key, notify(TS + 60, {"aenergy": {"total": 12370.1, "by_minute": [24.4, 25.3, 25.1]}}))
    assert readings(alpha)[1].energy_wh == pytest.approx(24.422)


def test_a_counter_reset_counts_the_energy_since_the_restart(alpha, key):
    post(alpha, key, full_status(total=12345.678))
    post(alpha, key, full_status(ts=TS + 120, total=3.2))  # the device rebooted: its counter restarted
    assert readings(alpha)[1].energy_wh == pytest.approx(3.2)


def test_a_get_status_body_is_read_with_the_device_clock(alpha, key):
    status = full_status()["params"]
    status["sys"]["unixtime"] = TS + 5
    assert post(alpha, key, status).status_code == 201
    assert readings(alpha)[0].time == datetime.fromtimestamp(TS + 5, tz=UTC)


def test_an_event_notification_stores_nothing_and_is_accepted(alpha, key):
    body = {"src": "shellypro1pm-30c6f782d2b8", "method": "NotifyEvent", "params": {"ts": TS, "events": []}}
    response = post(alpha, key, body)
    assert response.status_code == 200
    assert readings(alpha) == []


def overpower_event(ts=TS):
    return {
        "src": "shellypro1pm-30c6f782d2b8",
        "dst": "voltwatch",
        "method": "NotifyEvent",
        "params": {
            "ts": ts + 0.5,
            "events": [{"component": "switch:0", "id": 0, "event": "overpower", "ts": ts + 0.25}],
        },
    }


def test_a_protection_event_is_recorded_on_the_meter(alpha, key, meter):
    response = post(alpha, key, overpower_event())
    assert response.status_code == 201
    assert response.json() == {"received": 1, "stored": 1, "duplicates": 0}
    with schema_context(alpha.slug):
        events = Meter.objects.get(pk=meter.pk).shelly_events
    connection.set_schema_to_public()
    assert events == [{"component": "switch:0", "event": "overpower", "time": "2026-11-24T06:00:00.250000+00:00"}]
    assert readings(alpha) == []


def test_a_protection_event_raises_a_critical_alert_on_the_meter(alpha, key, meter):
    post(alpha, key, overpower_event())
    post(alpha, key, overpower_event())  # the device sent it again: one event, one alert
    with schema_context(alpha.slug):
        raised = list(
            Alert.objects.values_list("type", "severity", "message", "source_type", "source_id", "occurrences")
        )
        events = Meter.objects.get(pk=meter.pk).shelly_events
    connection.set_schema_to_public()
    assert raised == [
        ("shelly_overpower", "critical", "switch:0: overpower protection tripped, the output is off.", "meter",
         "shellypro1pm-30c6f782d2b8", 1)
    ]  # fmt: skip
    assert len(events) == 1


def test_the_meter_page_lists_the_device_events(alpha, key, meter):
    post(alpha, key, overpower_event())
    page = alpha.http("viewer").get(f"/meter/{meter.pk}/").content.decode()
    section = page.split('data-testid="device-events"')[1].split("</section>")[0]
    assert "<code>switch:0</code>" in section
    assert "<td>overpower</td>" in section


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ({"component": "switch:0"}, "params.events[0].event"),
        ({"component": "switch:0", "event": "overpower", "ts": "soon"}, "params.events[0].ts"),
        ("overpower", "params.events[0]"),
        ({"component": "switch:0", "event": "over\x00power"}, "params.events[0].event"),
    ],
)
def test_a_malformed_event_is_refused_naming_it(alpha, key, meter, events, field):
    body = {"src": "shellypro1pm-30c6f782d2b8", "method": "NotifyEvent", "params": {"ts": TS, "events": [events]}}
    response = post(alpha, key, body)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_device_claiming_another_identity_is_refused(alpha, key):
    body = full_status()
    body["src"] = "shellypro1pm-aaaaaaaaaaaa"
    response = post(alpha, key, body)
    assert response.status_code == 400
    assert "device" in response.json()["fields"]


def test_the_seed_api_lists_measurements_in_its_shape(alpha, key, meter):
    post(alpha, key, {"power": 120.5, "voltage": 230.1, "current": 0.52, "energy": 10.2})
    response = alpha.api(alpha.read_token).get("/api/measurements/")
    assert response.status_code == 200
    [measurement] = response.json()["results"]
    assert set(measurement) == {"meter", "power", "voltage", "current", "energy", "timestamp"}
    assert measurement["meter"] == meter.device_id and measurement["energy"] == 10.2


def test_the_seed_api_filters_by_period_and_gives_the_last_ten(alpha, key):
    for minute in range(12):
        post(alpha, key, notify(TS + 60 * minute, {"apower": float(minute), "voltage": 230.0}))
    reader = alpha.api(alpha.read_token)
    latest = reader.get("/api/measurements/latest/").json()
    assert [m["power"] for m in latest] == [float(m) for m in range(11, 1, -1)]
    start = datetime.fromtimestamp(TS + 60 * 10, tz=UTC).isoformat()
    window = reader.get("/api/measurements/", {"start": start}).json()
    assert window["count"] == 2


def test_a_meter_power_threshold_raises_an_alert(alpha, key, meter, check_thresholds):
    from alerts.models import Alert
    from telemetry import services

    with schema_context(alpha.slug):
        meter = Meter.objects.get(pk=meter.pk)
        meter.power_alert_threshold = 3500
        meter.save()
        services.sync_meter_threshold(meter)
    connection.set_schema_to_public()
    post(alpha, key, notify(TS, {"apower": 3890.2}))
    check_thresholds(alpha)
    with schema_context(alpha.slug):
        alert = Alert.objects.get(source_id=meter.device_id, type="power_high")
        assert "3890.2" in alert.message
    connection.set_schema_to_public()
