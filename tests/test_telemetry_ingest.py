"""The generic batch endpoint: `POST /api/v1/telemetry/readings`."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from accounts.services import create_api_key
from outbox.models import OutboxBatch
from telemetry.metrics import COLUMNS
from telemetry.models import BatteryReading, MeterReading, Rollup
from tests.factories import make_battery, make_meter

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def post(world, body, token=None):
    return world.api(token).post("/api/v1/telemetry/readings", body, content_type="application/json")


def stored(world, model=BatteryReading, **filters):
    with schema_context(world.slug):
        rows = list(model.objects.filter(**filters).order_by("asset_id", "time"))
    connection.set_schema_to_public()
    return rows


@pytest.fixture
def battery(alpha):
    return make_battery(alpha, cell_count=4)


def readings(battery, count=3, start=T0, **values):
    values = values or {"voltage": 51.2, "current": -10.5, "soc": 80}
    return {
        "kind": "battery",
        "readings": [
            {"asset": battery.serial, "time": (start + timedelta(seconds=i)).isoformat(), "values": values}
            for i in range(count)
        ],
    }


def test_a_batch_is_stored_and_counted(alpha, battery):
    response = post(alpha, readings(battery, count=3))
    assert response.status_code == 201
    assert response.json() == {"received": 3, "stored": 3, "duplicates": 0}
    rows = stored(alpha)
    assert [row.time for row in rows] == [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]
    assert rows[0].voltage == 51.2 and rows[0].soc == 80


def test_assets_may_be_named_by_id_and_times_by_unix_seconds_or_milliseconds(alpha, battery):
    body = {
        "readings": [
            {"asset": battery.pk, "time": int(T0.timestamp()), "values": {"voltage": 50}},
            {"asset": battery.pk, "time": int(T0.timestamp() * 1000) + 1500, "values": {"voltage": 51}},
            {"asset": battery.serial, "time": "2026-11-20T09:00:02+01:00", "values": {"voltage": "52.5"}},
        ]
    }
    assert post(alpha, body).status_code == 201
    assert [(r.time, r.voltage) for r in stored(alpha)] == [
        (T0, 50),
        (T0 + timedelta(seconds=1.5), 51),
        (T0 + timedelta(seconds=2), 52.5),
    ]


def test_re_sending_a_batch_stores_nothing_twice(alpha, battery):
    post(alpha, readings(battery, count=3))
    response = post(alpha, readings(battery, count=5))
    assert response.status_code == 201
    assert response.json() == {"received": 5, "stored": 2, "duplicates": 3}
    assert len(stored(alpha)) == 5


def test_an_exact_re_send_answers_200_with_every_reading_a_duplicate(alpha, battery):
    post(alpha, readings(battery, count=2))
    response = post(alpha, readings(battery, count=2))
    assert response.status_code == 200
    assert response.json()["duplicates"] == 2


def post_resent(world, body, on_conflict=None):
    path = "/api/v1/telemetry/readings" + (f"?on_conflict={on_conflict}" if on_conflict else "")
    return world.api().post(path, body, content_type="application/json")


def corrected(battery):
    """Readings 0-2 as first sent, except reading 1 whose voltage was corrected, and a new reading 3."""
    body = readings(battery, count=4)
    body["readings"][1]["values"] = {"voltage": 49.9, "current": -10.5, "soc": 80}
    return body


CONFLICT_DETAIL = (
    "Nothing was stored: 1 reading differs from the one stored for its asset at its time. "
    "Send the batch again with ?on_conflict=update to replace it, or ?on_conflict=skip to keep it."
)


def test_a_reading_re_sent_with_other_values_is_a_conflict_and_nothing_of_the_batch_is_stored(alpha, battery):
    post(alpha, readings(battery, count=3))

    response = post(alpha, corrected(battery))

    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "detail": CONFLICT_DETAIL,
        "fields": {"readings[1]": "Differs from the reading stored for this asset at this time."},
        "conflicts": [{"index": 1, "asset": battery.serial, "time": "2026-11-20T08:00:01Z"}],
    }
    assert [(row.time, row.voltage) for row in stored(alpha)] == [
        (T0, 51.2),
        (T0 + timedelta(seconds=1), 51.2),
        (T0 + timedelta(seconds=2), 51.2),
    ]


def test_every_conflict_is_listed_by_its_index_in_the_batch_as_sent(alpha, battery):
    post(alpha, readings(battery, count=3))
    body = readings(battery, count=3, voltage=50.0)
    body["readings"].insert(0, dict(body["readings"][2], values={"voltage": 50.0}))  # a repeat: stored once
    body["readings"][2]["asset"] = battery.pk  # the same battery, named by its id

    response = post(alpha, body)

    assert response.status_code == 409
    assert response.json()["conflicts"] == [
        {"index": 0, "asset": battery.serial, "time": "2026-11-20T08:00:02Z"},
        {"index": 1, "asset": battery.serial, "time": "2026-11-20T08:00:00Z"},
        {"index": 2, "asset": battery.pk, "time": "2026-11-20T08:00:01Z"},
    ]


def test_a_conflict_found_by_the_detailed_validator_path_is_a_409_too(alpha, battery):
    post(alpha, readings(battery, count=3))
    body = corrected(battery)
    body["readings"][1]["timestamp"] = body["readings"][1].pop("time")  # a key only the detailed path takes

    response = post(alpha, body)

    assert response.status_code == 409
    assert response.json()["conflicts"] == [{"index": 1, "asset": battery.serial, "time": "2026-11-20T08:00:01Z"}]


def test_a_reading_carrying_fewer_metrics_than_the_stored_one_is_a_conflict(alpha, battery):
    post(alpha, readings(battery, count=1))

    response = post(alpha, readings(battery, count=1, voltage=51.2))

    assert response.status_code == 409


def test_on_conflict_update_replaces_the_stored_readings(alpha, battery):
    post(alpha, readings(battery, count=3))

    response = post_resent(alpha, corrected(battery), on_conflict="update")

    assert response.status_code == 201
    assert response.json() == {"received": 4, "stored": 1, "duplicates": 2, "updated": 1}
    assert [(row.voltage, row.power) for row in stored(alpha)] == [
        (51.2, -537.6),
        (49.9, -523.95),  # what it implies follows
        (51.2, -537.6),
        (51.2, -537.6),
    ]


def test_an_update_clears_the_metrics_the_new_reading_does_not_carry(alpha, battery):
    post(alpha, readings(battery, count=1))

    post_resent(alpha, readings(battery, count=1, soc=75), on_conflict="update")

    [row] = stored(alpha)
    assert (row.soc, row.voltage, row.power) == (75, None, None)


def test_the_rollups_forget_a_metric_that_an_update_cleared(alpha, battery):
    from telemetry.rollups import compute_rollups

    post(alpha, readings(battery, count=1))
    with schema_context(alpha.slug):
        compute_rollups()
    post_resent(alpha, readings(battery, count=1, soc=75), on_conflict="update")

    with schema_context(alpha.slug):
        compute_rollups()
        rolled = sorted(Rollup.objects.filter(asset_id=battery.pk).values_list("resolution", "metric", "last"))
    assert rolled == [("d", "soc", 75.0), ("h", "soc", 75.0), ("q", "soc", 75.0)]


def test_an_identical_re_send_with_on_conflict_update_rewrites_nothing(alpha, battery, settings):
    settings.OUTBOX_ENABLED = True
    post(alpha, readings(battery, count=2))

    response = post_resent(alpha, readings(battery, count=2), on_conflict="update")

    assert response.status_code == 200
    assert response.json() == {"received": 2, "stored": 0, "duplicates": 2, "updated": 0}
    assert [batch.messages for batch in OutboxBatch.objects.order_by("id")] == [2]


def test_on_conflict_skip_keeps_the_stored_readings_and_lists_the_conflicts(alpha, battery):
    post(alpha, readings(battery, count=3))

    response = post_resent(alpha, corrected(battery), on_conflict="skip")

    assert response.status_code == 201
    assert response.json() == {
        "received": 4,
        "stored": 1,
        "duplicates": 2,
        "conflicts": [{"index": 1, "asset": battery.serial, "time": "2026-11-20T08:00:01Z"}],
    }
    assert [row.voltage for row in stored(alpha)] == [51.2, 51.2, 51.2, 51.2]


def test_an_unknown_on_conflict_is_refused(alpha, battery):
    response = post_resent(alpha, readings(battery), on_conflict="overwrite")

    assert response.status_code == 400
    assert response.json()["fields"] == {"on_conflict": "Expected one of: reject, update, skip."}
    assert stored(alpha) == []


def test_an_update_reaches_the_hourly_rollups(alpha, battery):
    from telemetry import rollups

    post(alpha, readings(battery, count=3))
    with schema_context(alpha.slug):
        rollups.compute_rollups()
    connection.set_schema_to_public()

    post_resent(alpha, corrected(battery), on_conflict="update")
    with schema_context(alpha.slug):
        rollups.compute_rollups()
        hour = Rollup.objects.get(kind="battery", asset_id=battery.pk, resolution="h", metric="voltage", bucket=T0)
    connection.set_schema_to_public()

    assert (hour.min, hour.max, hour.count, round(hour.sum, 6)) == (49.9, 51.2, 4, round(51.2 * 3 + 49.9, 6))


def test_an_updated_reading_is_queued_for_kafka(alpha, battery, settings):
    settings.OUTBOX_ENABLED = True
    post(alpha, readings(battery, count=3))

    post_resent(alpha, corrected(battery), on_conflict="update")

    batches = list(OutboxBatch.objects.order_by("id"))
    assert [b.messages for b in batches] == [3, 2]  # the new reading and the replaced one


def test_a_refused_batch_queues_nothing_for_kafka(alpha, battery, settings):
    settings.OUTBOX_ENABLED = True
    post(alpha, readings(battery, count=3))

    post(alpha, corrected(battery))

    assert [b.messages for b in OutboxBatch.objects.order_by("id")] == [3]


def test_meter_readings_re_sent_as_they_were_stay_duplicates_though_their_energy_was_derived(alpha):
    meter = make_meter(alpha)

    def body(*indexes):
        return {
            "kind": "meter",
            "readings": [
                {
                    "asset": meter.device_id,
                    "time": (T0 + timedelta(minutes=i)).isoformat(),
                    "values": {"energy_total_wh": 1000.0 + 10 * i},
                }
                for i in indexes
            ],
        }

    post(alpha, body(1, 2))
    post(alpha, body(0))  # an earlier reading arrives late: reading 1's energy could be derived now

    response = post(alpha, body(1, 2))

    assert response.status_code == 200
    assert response.json() == {"received": 2, "stored": 0, "duplicates": 2}


def test_cell_voltages_are_kept_with_their_spread(alpha, battery):
    post(alpha, readings(battery, count=1, cell_voltages=[3.31, 3.29, 3.35, 3.30]))
    row = stored(alpha)[0]
    assert row.cell_voltages == [3.31, 3.29, 3.35, 3.30]
    assert (row.cell_voltage_min, row.cell_voltage_max) == (3.29, 3.35)


def test_readings_of_one_batch_may_carry_different_metrics_arrays_and_states(alpha, battery):
    sent = [
        {"voltage": 52.1, "current": -3.0, "soc": 81, "cell_voltages": [3.3, 3.31, 3.29, 3.3], "state": "charging"},
        {"voltage": 52.0},
        {"soc": 79.5, "cell_voltages": [3.2, 3.4], "state": "idle", "error_flags": 2**40},
        {"temperature": -4.5, "cell_voltages": [], "cell_temperatures": [21.5, 23.0, 22.0], "state": "décharge"},
    ]
    body = {
        "readings": [
            {"asset": battery.serial, "time": (T0 + timedelta(seconds=i)).isoformat(), "values": values}
            for i, values in enumerate(sent)
        ]
    }
    assert post(alpha, body).status_code == 201
    rows = stored(alpha)
    got = [{name: getattr(row, name) for name in COLUMNS["battery"] if getattr(row, name) is not None} for row in rows]
    assert got == [
        {**sent[0], "power": -156.3, "cell_voltage_min": 3.29, "cell_voltage_max": 3.31},
        sent[1],
        {**sent[2], "cell_voltage_min": 3.2, "cell_voltage_max": 3.4},
        {**sent[3], "temperature_min": 21.5, "temperature_max": 23.0},
    ]


def test_meter_readings_keep_their_switch_state_and_gaps(alpha):
    meter = make_meter(alpha)
    sent = [
        {"power": 1200.5, "output": True},
        {"power": 0.0, "output": False, "errors": "overtemp"},
        {"voltage": 231.0},
    ]
    body = {
        "kind": "meter",
        "readings": [
            {"asset": meter.device_id, "time": (T0 + timedelta(seconds=i)).isoformat(), "values": values}
            for i, values in enumerate(sent)
        ],
    }
    assert post(alpha, body).status_code == 201
    rows = stored(alpha, MeterReading)
    assert [(r.power, r.output, r.errors, r.voltage) for r in rows] == [
        (1200.5, True, None, None),
        (0.0, False, "overtemp", None),
        (None, None, None, 231.0),
    ]


def test_a_batch_carrying_the_same_reading_twice_stores_it_once(alpha, battery):
    body = readings(battery, count=2)
    body["readings"].append(dict(body["readings"][0], values={"voltage": 1.0}))
    response = post(alpha, body)
    assert response.json() == {"received": 3, "stored": 2, "duplicates": 1}
    assert [row.voltage for row in stored(alpha)] == [51.2, 51.2]


def test_a_bad_value_names_the_field_and_nothing_of_the_batch_is_stored(alpha, battery):
    body = readings(battery, count=3)
    body["readings"][2]["values"] = {"voltage": "high", "soc": 140}
    response = post(alpha, body)
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "readings[2].values.voltage" in fields
    assert "between 0 and 100" in fields["readings[2].values.soc"]
    assert stored(alpha) == []


@pytest.mark.parametrize(
    ("reading", "field"),
    [
        ({"asset": "NOPE", "time": "2026-11-20T08:00:00Z", "values": {"voltage": 1}}, "readings[0].asset"),
        ({"asset": None, "time": "2026-11-20T08:00:00Z", "values": {"voltage": 1}}, "readings[0].asset"),
        ({"time": "yesterday", "values": {"voltage": 1}}, "readings[0].time"),
        ({"time": 86400, "values": {"voltage": 1}}, "readings[0].time"),
        ({"time": "2099-01-01T00:00:00Z", "values": {"voltage": 1}}, "readings[0].time"),
        ({"time": 1e20, "values": {"voltage": 1}}, "readings[0].time"),
        ({"time": 10**30, "values": {"voltage": 1}}, "readings[0].time"),
        ({"time": "2026-11-20T08:00:00Z", "values": {}}, "readings[0].values"),
        ({"time": "2026-11-20T08:00:00Z", "values": {"volts": 1}}, "readings[0].values.volts"),
        ({"time": "2026-11-20T08:00:00Z", "values": {"cell_voltages": [3.3, "x"]}}, "readings[0].values.cell_voltages"),
        ({"time": "2026-11-20T08:00:00Z", "values": {"error_flags": -1}}, "readings[0].values.error_flags"),
        ({"time": "2026-11-20T08:00:00Z", "values": {"state": "x" * 33}}, "readings[0].values.state"),
        ({"time": "2026-11-20T08:00:00Z", "values": {"state": "   "}}, "readings[0].values.state"),
        ({"time": "2026-11-20T08:00:00Z", "values": {"state": "idle\u0000"}}, "readings[0].values.state"),
    ],
)
def test_malformed_readings_are_refused_naming_the_field(alpha, battery, reading, field):
    reading.setdefault("asset", battery.serial)
    response = post(alpha, {"readings": [reading]})
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_batch_over_ten_thousand_readings_is_refused(alpha, battery):
    response = post(alpha, readings(battery, count=10_001))
    assert response.status_code == 400
    assert "10000" in response.json()["fields"]["readings"]


def test_malformed_json_is_a_400_saying_so(alpha):
    response = alpha.api().post("/api/v1/telemetry/readings", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["detail"]


def test_another_tenants_key_is_refused(alpha, beta, battery):
    assert post(alpha, readings(battery), token=beta.api_token).status_code == 401


def test_another_tenants_asset_is_unknown(alpha, beta):
    theirs = make_battery(beta)
    response = post(alpha, readings(theirs))
    assert response.status_code == 400
    assert "readings[0].asset" in response.json()["fields"]


def test_a_read_only_key_cannot_ingest(alpha, battery):
    assert post(alpha, readings(battery), token=alpha.read_token).status_code == 403


def test_a_key_bound_to_an_asset_reports_for_that_asset_only(alpha, battery):
    other = make_battery(alpha)
    with schema_context(alpha.slug):
        _key, token = create_api_key(name="pack", scopes=["ingest"], bound_to=f"battery:{battery.pk}")
    connection.set_schema_to_public()
    assert post(alpha, readings(battery), token=token).status_code == 201
    response = post(alpha, readings(other), token=token)
    assert response.status_code == 400
    assert "may report for" in response.json()["fields"]["readings[0].asset"]


def test_meter_energy_comes_from_the_counter_with_resets_detected(alpha):
    meter = make_meter(alpha)
    totals = [1000.0, 1012.5, 1030.0, 4.0, 10.0]  # the device restarted before the fourth reading
    body = {
        "kind": "meter",
        "readings": [
            {
                "asset": meter.device_id,
                "time": (T0 + timedelta(minutes=i)).isoformat(),
                "values": {"energy_total_wh": t},
            }
            for i, t in enumerate(totals)
        ],
    }
    assert post(alpha, body).status_code == 201
    assert [r.energy_wh for r in stored(alpha, MeterReading)] == [None, 12.5, 17.5, 4.0, 6.0]


def test_each_stored_reading_is_queued_for_kafka_and_duplicates_are_not(alpha, battery, settings):
    settings.OUTBOX_ENABLED = True
    post(alpha, readings(battery, count=3))
    post(alpha, readings(battery, count=4))
    batches = list(OutboxBatch.objects.order_by("id"))
    assert [b.messages for b in batches] == [3, 1]
    assert batches[0].topic == settings.KAFKA_TOPICS["battery"]
