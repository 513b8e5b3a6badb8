"""Every stored reading reaches Kafka through the outbox, even when the broker was down."""

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import orjson
import pytest
from django.conf import settings

from outbox.models import OutboxBatch
from outbox.relay import DeliveryFailed, Relay
from tests import conftest
from tests.conftest import BASE_DIR
from tests.factories import make_battery, make_meter
from tests.kafka import Broker, consume, consume_all, freeze, thaw
from tests.tcp_proxy import TcpProxy

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# The namespace README's "Kafka events" documents for event ids.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c3e5a-3b7e-5d0e-9a51-0c2f7d0b8e41")


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
    event_id = str(uuid.uuid5(EVENT_ID_NAMESPACE, f"alpha:meter:{meter.pk}:2026-11-20T08:00:00Z"))
    assert event == {
        "schema_version": 1,
        "tenant": "alpha",
        "kind": "meter",
        "asset": meter.pk,
        "asset_ref": meter.device_id,
        "event_id": event_id,
        "time": "2026-11-20T08:00:00Z",
        "values": {"power": 1200.0, "energy_total_wh": 10.0},
    }
    assert message.headers() is None  # the id travels in the event (a header per message doubled the produce cost)


def test_the_event_id_names_the_reading_by_tenant_kind_asset_and_time_as_written(alpha, outbox_on, broker):
    broker.start()
    battery = make_battery(alpha)
    reading = {"asset": battery.serial, "time": "2026-11-20T08:00:00.250Z", "values": {"soc": 50}}
    body = {"readings": [reading]}
    assert alpha.api().post("/api/v1/telemetry/readings", body, content_type="application/json").status_code == 201
    Relay(bootstrap_servers=broker.bootstrap).drain()
    [message] = consume(broker.bootstrap, "test.battery.readings", expected=1)

    assert orjson.loads(message.value())["event_id"] == str(
        uuid.uuid5(EVENT_ID_NAMESPACE, f"alpha:battery:{battery.pk}:2026-11-20T08:00:00.250000Z")
    )


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


@pytest.fixture
def relay_service(worlds, tmp_path):
    """`manage.py kafka_relay` as deployed, in its own process, on the committed test database
    (through `database_url` if given); its log in `.log`. Outbox rows it left are deleted after."""
    started = []

    def start(bootstrap: str, database_url: str | None = None) -> subprocess.Popen:
        env = dict(
            os.environ,
            DATABASE_URL=database_url or conftest.test_database_url(),
            REDIS_URL=settings.REDIS_URL,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            KAFKA_MESSAGE_TIMEOUT_S="1",  # the first wait for acknowledgements: shorter than the outages below
        )
        log = open(tmp_path / "relay.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "manage.py", "kafka_relay"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        process.log = tmp_path / "relay.log"
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        process.terminate()
        process.wait(10)
        log.close()
    with worlds["alpha"].blocker.unblock():
        OutboxBatch.objects.all().delete()


def wait_until_published(blocker, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.log.read_text()
        with blocker.unblock():
            if not OutboxBatch.objects.exists():
                return
        time.sleep(0.2)
    raise AssertionError(f"the outbox is still not empty after {timeout} s")


def ingest_committed(world, battery, count, start):
    with world.blocker.unblock():
        for offset in range(0, count, 1000):
            ingest(world, "battery", battery.serial, min(1000, count - offset), start=start + timedelta(seconds=offset))


def test_a_broker_frozen_mid_delivery_loses_nothing_and_duplicates_nothing(
    worlds, committed_assets, outbox_on, broker, relay_service
):
    alpha = worlds["alpha"]
    broker.start()
    battery = committed_assets(make_battery, "battery")
    relay = relay_service(broker.bootstrap)
    ingest_committed(alpha, battery, 500, T0)
    wait_until_published(alpha.blocker, relay)  # connected, topic made: what follows is in flight

    freeze(broker)
    try:
        ingest_committed(alpha, battery, 3000, T0 + timedelta(hours=1))
        time.sleep(6)  # several of the relay's waits for acknowledgements
    finally:
        thaw(broker)
    wait_until_published(alpha.blocker, relay)

    events = [orjson.loads(message.value()) for message in consume_all(broker.bootstrap, "test.battery.readings")]
    assert len({event["event_id"] for event in events}) == 3500
    assert len(events) == 3500
    assert relay.poll() is None


def test_the_relay_waits_out_postgresql_going_away_then_publishes_what_waited(
    worlds, committed_assets, outbox_on, broker, relay_service
):
    alpha = worlds["alpha"]
    broker.start()
    battery = committed_assets(make_battery, "battery")
    database = urlsplit(conftest.test_database_url())
    if not database.hostname:
        pytest.skip("PostgreSQL is reached through a Unix socket here: nothing to put a TCP proxy in front of")
    proxy = TcpProxy((database.hostname, database.port or 5432)).start()
    credentials = database.netloc.rpartition("@")[0]
    url = urlunsplit(database._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))
    relay = relay_service(broker.bootstrap, database_url=url)
    ingest_committed(alpha, battery, 20, T0)
    wait_until_published(alpha.blocker, relay)

    proxy.cut()
    try:
        ingest_committed(alpha, battery, 30, T0 + timedelta(hours=1))
        time.sleep(4)
        assert relay.poll() is None, relay.log.read_text()
    finally:
        proxy.start()
    wait_until_published(alpha.blocker, relay)

    events = [orjson.loads(message.value()) for message in consume_all(broker.bootstrap, "test.battery.readings")]
    assert len({event["event_id"] for event in events}) == len(events) == 50
    log = relay.log.read_text()
    assert "PostgreSQL unreachable, retrying in 1 s" in log
    assert "Traceback" not in log
