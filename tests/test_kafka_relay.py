"""Every stored reading reaches Kafka through the outbox, even when the broker was down."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from outbox.models import OutboxBatch
from outbox.relay import DeliveryFailed, Relay
from tests.factories import make_battery, make_meter
from tests.kafka import Broker, consume

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def outbox_on(settings):
    settings.OUTBOX_ENABLED = True
    settings.KAFKA_TOPICS = {"battery": "test.battery.readings", "meter": "test.meter.readings"}
    return settings


@pytest.fixture
def broker():
    broker = Broker()
    yield broker
    broker.stop()


def ingest(world, kind, asset_ref, count, start=T0):
    values = {"voltage": 51.0, "soc": 75} if kind == "battery" else {"power": 1200.0, "energy_total_wh": 10.0}
    body = {
        "kind": kind,
        "readings": [
            {"asset": asset_ref, "time": (start + timedelta(seconds=i)).isoformat(), "values": values}
            for i in range(count)
        ],
    }
    response = world.api().post("/api/v1/telemetry/readings", body, content_type="application/json")
    assert response.status_code == 201


def test_readings_stored_while_kafka_is_down_are_all_delivered_when_it_returns(alpha, outbox_on, broker):
    battery = make_battery(alpha)
    ingest(alpha, "battery", battery.serial, 40)
    relay = Relay(bootstrap_servers=broker.bootstrap, flush_timeout=2)

    with pytest.raises(DeliveryFailed):
        relay.drain()
    assert sum(OutboxBatch.objects.values_list("messages", flat=True)) == 40

    broker.start()
    ingest(alpha, "battery", battery.serial, 10, start=T0 + timedelta(minutes=5))
    assert relay.drain() == 50
    assert not OutboxBatch.objects.exists()

    messages = consume(broker.bootstrap, "test.battery.readings", expected=50)
    assert len(messages) == 50
    times = sorted(orjson.loads(m.value())["time"] for m in messages)
    assert len(set(times)) == 50


def test_events_carry_schema_version_tenant_asset_time_and_values_keyed_tenant_asset(alpha, outbox_on, broker):
    broker.start()
    meter = make_meter(alpha)
    ingest(alpha, "meter", meter.device_id, 1)
    Relay(bootstrap_servers=broker.bootstrap).drain()

    [message] = consume(broker.bootstrap, "test.meter.readings", expected=1)
    assert message.key() == f"alpha:{meter.pk}".encode()
    event = orjson.loads(message.value())
    assert event == {
        "schema_version": 1,
        "tenant": "alpha",
        "kind": "meter",
        "asset": meter.pk,
        "asset_ref": meter.device_id,
        "time": "2026-11-20T08:00:00Z",
        "values": {"power": 1200.0, "energy_total_wh": 10.0},
    }


def test_nothing_is_queued_when_kafka_is_not_configured(alpha, settings):
    settings.OUTBOX_ENABLED = False
    ingest(alpha, "battery", make_battery(alpha).serial, 3)
    assert not OutboxBatch.objects.exists()


def test_each_reading_is_published_once_when_batches_interleave_in_time_or_repeat(alpha, outbox_on, broker):
    broker.start()
    battery = make_battery(alpha)
    post_times = [
        [T0 + timedelta(seconds=s) for s in (0, 2, 4)],
        [T0 + timedelta(seconds=s) for s in (1, 3, 5)],  # inside the first batch's time range
        [T0 + timedelta(seconds=s) for s in (0, 1, 6)],  # two already stored, one new
    ]
    for times in post_times:
        body = {"readings": [{"asset": battery.serial, "time": t.isoformat(), "values": {"soc": 50}} for t in times]}
        assert alpha.api().post("/api/v1/telemetry/readings", body, content_type="application/json").status_code == 201

    assert Relay(bootstrap_servers=broker.bootstrap).drain() == 7

    messages = consume(broker.bootstrap, "test.battery.readings", expected=7)
    assert sorted(orjson.loads(m.value())["time"] for m in messages) == [f"2026-11-20T08:00:0{s}Z" for s in range(7)]


def test_events_carry_derived_values_and_sub_second_times(alpha, outbox_on, broker):
    broker.start()
    battery = make_battery(alpha)
    body = {
        "readings": [
            {
                "asset": battery.serial,
                "time": "2026-11-20T08:00:00.250Z",
                "values": {"voltage": 50.0, "current": -10.0, "cell_voltages": [3.30, 3.25, 3.31]},
            }
        ]
    }
    assert alpha.api().post("/api/v1/telemetry/readings", body, content_type="application/json").status_code == 201
    Relay(bootstrap_servers=broker.bootstrap).drain()

    [message] = consume(broker.bootstrap, "test.battery.readings", expected=1)
    event = orjson.loads(message.value())
    assert event["time"] == "2026-11-20T08:00:00.250000Z"
    assert event["asset_ref"] == battery.serial
    assert event["values"] == {
        "voltage": 50.0,
        "current": -10.0,
        "power": -500.0,
        "cell_voltages": [3.30, 3.25, 3.31],
        "cell_voltage_min": 3.25,
        "cell_voltage_max": 3.31,
    }


def test_readings_of_an_asset_deleted_before_the_relay_ran_are_not_published(alpha, outbox_on, broker):
    from django_tenants.utils import schema_context

    from telemetry import services

    broker.start()
    kept, deleted = make_battery(alpha), make_battery(alpha)
    ingest(alpha, "battery", kept.serial, 2)
    ingest(alpha, "battery", deleted.serial, 3)
    with schema_context(alpha.slug):
        services.delete_asset("battery", deleted)

    assert Relay(bootstrap_servers=broker.bootstrap).drain() == 2
    assert not OutboxBatch.objects.exists()
    messages = consume(broker.bootstrap, "test.battery.readings", expected=2)
    assert {orjson.loads(m.value())["asset_ref"] for m in messages} == {kept.serial}


def test_committed_readings_are_published_as_stored_by_the_loading_threads(worlds, committed_assets, outbox_on, broker):
    """As in production, the relay runs outside any transaction: the readings an outbox row refers to
    are read by helper threads on their own connections, while earlier rows are being published."""
    alpha = worlds["alpha"]
    outbox_on.TELEMETRY_AFTER_COMMIT = "background"  # these commit: live pushes off this thread, as in production
    broker.start()
    battery = committed_assets(make_battery, "battery", cell_count=3)
    sent = [
        {"voltage": 12.9, "current": 2.0, "cell_voltages": [4.3, 4.29, 4.31], "state": "charging"},
        {"soc": 99.5},
        {"cell_voltages": [4.1, 4.2, 4.0], "error_flags": 3},
    ]
    with alpha.blocker.unblock():
        for index, values in enumerate(sent):  # a request each: three outbox rows
            reading = {"asset": battery.serial, "time": (T0 + timedelta(seconds=index)).isoformat(), "values": values}
            response = alpha.api().post(
                "/api/v1/telemetry/readings", {"readings": [reading]}, content_type="application/json"
            )
            assert response.status_code == 201
        assert Relay(bootstrap_servers=broker.bootstrap).drain() == 3
        assert not OutboxBatch.objects.exists()

    messages = consume(broker.bootstrap, "test.battery.readings", expected=3)
    events = sorted((orjson.loads(message.value()) for message in messages), key=lambda event: event["time"])
    assert [event["values"] for event in events] == [
        {**sent[0], "power": 25.8, "cell_voltage_min": 4.29, "cell_voltage_max": 4.31},
        sent[1],
        {**sent[2], "cell_voltage_min": 4.0, "cell_voltage_max": 4.2},
    ]


def test_a_replaced_reading_is_published_with_its_new_values(alpha, outbox_on, broker):
    broker.start()
    battery = make_battery(alpha)
    ingest(alpha, "battery", battery.serial, 2)
    relay = Relay(bootstrap_servers=broker.bootstrap)
    assert relay.drain() == 2
    corrected = {
        "readings": [{"asset": battery.serial, "time": T0.isoformat(), "values": {"voltage": 49.5, "soc": 74}}]
    }

    response = alpha.api().post(
        "/api/v1/telemetry/readings?on_conflict=update", corrected, content_type="application/json"
    )

    assert response.json()["updated"] == 1
    assert relay.drain() == 1
    messages = consume(broker.bootstrap, "test.battery.readings", expected=3)
    events = [orjson.loads(m.value()) for m in messages]
    assert [(e["time"], e["values"]) for e in events] == [
        ("2026-11-20T08:00:00Z", {"voltage": 51.0, "soc": 75.0}),
        ("2026-11-20T08:00:01Z", {"voltage": 51.0, "soc": 75.0}),
        ("2026-11-20T08:00:00Z", {"voltage": 49.5, "soc": 74.0}),
    ]
