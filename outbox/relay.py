"""The outbox relay: publishes outbox rows to Kafka, then deletes them.

At-least-once: rows are deleted only after the broker acknowledged every message of the batch, in
the transaction that locked them, so a crash or a broker outage loses nothing (a crash between the
acknowledgement and the delete republishes that batch once). The producer is idempotent, so its own
retries never duplicate. When the broker is unreachable the batch is rolled back, the producer's
queue is purged (so the retry does not publish twice) and the relay backs off.

Rows that reference stored data (see `outbox.services.register_loader`) are loaded by two helper
threads, each on its own connection, a couple of rows ahead of the one being published: one
helper's wait on PostgreSQL overlaps the other's and the publisher's Python work. Messages still
go out in outbox order.

Several relays may run: `FOR UPDATE SKIP LOCKED` gives each its own rows. Order per key holds with
one relay, which is the default deployment.
"""

import logging
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import orjson
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings
from django.db import connection, transaction

from outbox.services import LOADERS, SEPARATOR, TABLE

logger = logging.getLogger(__name__)
# librdkafka's own messages (connection refused while the broker is down…) go through logging too.
kafka_logger = logging.getLogger("kafka")
# Reference rows read by helper threads while earlier rows are published: each helper's database
# work overlaps the others' Python work (a row may stand for thousands of events, hence only a few).
LOADERS_AHEAD = 2


class DeliveryFailed(Exception):
    pass


def producer_config(bootstrap_servers: str) -> dict:
    return {
        "bootstrap.servers": bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.num.messages": 10000,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 1_000_000,
        "queue.buffering.max.kbytes": 1_048_576,
        "message.timeout.ms": int(settings.KAFKA_MESSAGE_TIMEOUT_S * 1000),
        "client.id": "voltwatch-outbox-relay",
        "logger": kafka_logger,
    }


@dataclass
class Relay:
    bootstrap_servers: str
    rows_per_batch: int = 200
    flush_timeout: float = 15.0
    published: int = 0
    _producer: Producer | None = None
    _known_topics: set = field(default_factory=set)

    _failures: list = field(default_factory=list)

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            # Delivery reports for failures only: success is the flush returning with nothing left.
            config = producer_config(self.bootstrap_servers)
            self._producer = Producer({**config, "delivery.report.only.error": True, "on_delivery": self._on_delivery})
        return self._producer

    def _ensure_topics(self, topics: set[str]) -> None:
        """Create missing topics up front: brokers may refuse to auto-create them."""
        missing = topics - self._known_topics
        if not missing:
            return
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "logger": kafka_logger})
        futures = admin.create_topics(
            [NewTopic(topic, num_partitions=settings.KAFKA_TOPIC_PARTITIONS) for topic in sorted(missing)],
            request_timeout=self.flush_timeout,
        )
        for topic, future in futures.items():
            try:
                future.result(timeout=self.flush_timeout)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise DeliveryFailed(f"cannot create topic {topic}: {exc}") from exc
            except FutureTimeout:
                raise DeliveryFailed(f"no broker answered within {self.flush_timeout:g} s") from None
            self._known_topics.add(topic)

    def _on_delivery(self, error, _message) -> None:
        if error is not None:
            self._failures.append(error)

    @staticmethod
    def _messages(cursor, payload: str, source: str | None) -> Iterator[tuple[str, str]]:
        if source is None:
            for line in payload.split("\n"):
                key, _sep, value = line.partition(SEPARATOR)
                yield key, value
            return
        source = orjson.loads(source)  # Django's cursors hand jsonb over as text
        loader = LOADERS.get(source.get("loader"))
        if loader is None:  # a process without the app that wrote it: keep the row for one that has it
            raise DeliveryFailed(f"no outbox loader {source.get('loader')!r} in this process")
        yield from loader(cursor, source)

    @classmethod
    def _loaded(cls, source: str) -> list[tuple[str, str]]:
        """The messages of a reference row, read on the calling helper thread's own connection (the
        rows referenced are committed: the relay's transaction is not needed to see them)."""
        try:
            with connection.cursor() as cursor:
                return list(cls._messages(cursor, "", source))
        finally:
            connection.close()  # back to the pool

    def _batches(
        self, cursor, rows: list[tuple[int, str, str, object]], *, helped: bool
    ) -> Iterator[tuple[str, Iterator | list]]:
        """(topic, messages) of each outbox row, in order; reference rows loaded a few ahead by the
        helper threads, or here on `cursor` when not `helped`."""
        if not helped:
            for _id, topic, payload, source in rows:
                yield topic, self._messages(cursor, payload, source)
            return
        with ThreadPoolExecutor(max_workers=LOADERS_AHEAD, thread_name_prefix="outbox-loader") as helpers:
            ahead: deque = deque()
            waiting = iter(rows)

            def read_ahead() -> None:
                while len(ahead) <= LOADERS_AHEAD and (row := next(waiting, None)) is not None:
                    source = row[3]
                    ahead.append((row, None if source is None else helpers.submit(self._loaded, source)))

            try:
                read_ahead()
                while ahead:
                    (_id, topic, payload, _source), loading = ahead.popleft()
                    read_ahead()
                    yield topic, (self._messages(cursor, payload, None) if loading is None else loading.result())
            finally:
                for _row, loading in ahead:
                    if loading is not None:
                        loading.cancel()

    def _publish(self, cursor, rows: list[tuple[int, str, str, object]], *, helped: bool = True) -> int:
        self._failures = failures = []
        producer = self.producer
        produce, poll = producer.produce, producer.poll
        count = 0
        for topic, messages in self._batches(cursor, rows, helped=helped):
            for key, value in messages:
                while True:
                    try:
                        produce(topic, value, key)
                        break
                    except BufferError:  # the local queue is full: let it drain
                        poll(0.05)
                count += 1
        remaining = producer.flush(self.flush_timeout)
        if remaining or failures:
            reason = failures[0] if failures else f"{remaining} messages unacknowledged after {self.flush_timeout:g} s"
            raise DeliveryFailed(str(reason))
        return count

    def _discard_producer(self) -> None:
        if self._producer is not None:
            self._producer.purge()
            self._producer.flush(0)
            self._producer = None

    def relay_once(self) -> int:
        """Publish one batch of outbox rows. Returns the number of messages published (0: empty)."""
        # Run inside a caller's transaction (a test, a shell), the rows an outbox row references may
        # be uncommitted, invisible to helper threads' connections: load them on this one instead.
        helped = not connection.in_atomic_block
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, topic, payload, source FROM {TABLE} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                    [self.rows_per_batch],
                )
                rows = cursor.fetchall()
                if not rows:
                    return 0
                self._ensure_topics({row[1] for row in rows})
                count = self._publish(cursor, rows, helped=helped)
                cursor.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%s)", [[row[0] for row in rows]])
        except (DeliveryFailed, KafkaException) as exc:
            self._discard_producer()
            raise DeliveryFailed(str(exc)) from exc
        self.published += count
        return count

    def drain(self) -> int:
        """Publish until the outbox is empty (raises DeliveryFailed if the broker is down)."""
        total = 0
        while count := self.relay_once():
            total += count
        return total

    def run_forever(self, *, idle_sleep: float = 0.2, max_backoff: float = 30.0) -> None:
        backoff = 1.0
        while True:
            try:
                if not self.relay_once():
                    time.sleep(idle_sleep)
                backoff = 1.0
            except DeliveryFailed as exc:
                logger.warning("kafka unreachable, retrying in %.0f s: %s", backoff, exc)
                time.sleep(backoff)
                backoff = min(backoff * 2, max_backoff)
