"""The outbox relay: publishes outbox rows to Kafka, then deletes them.

At-least-once: rows are deleted only after the broker acknowledged every message of the batch, in
the transaction that locked them, so a crash or an outage of the broker or of PostgreSQL loses
nothing. Within one producer session nothing is sent twice: the producer is idempotent (its own
retries never duplicate), a message still in flight is never produced again — the relay waits for
the broker's answer however long it takes (a broker frozen for a while delivers what it had queued
when it returns) and sends again only what the broker definitely refused — and rows acknowledged
just before PostgreSQL went away are remembered, and deleted without being published again. A new
session (a restarted relay, or `--once` giving up) may publish some events a second time: each
event carries a stable `event_id` (telemetry/ingest/events.py) by which consumers drop them.

Rows that reference stored data (see `outbox.services.register_loader`) are loaded by two helper
threads, each on its own connection, a couple of rows ahead of the one being published: one
helper's wait on PostgreSQL overlaps the other's and the publisher's Python work. Messages still
go out in outbox order.

Several relays may run: `FOR UPDATE SKIP LOCKED` gives each its own rows. Order per key holds with
one relay, which is the default deployment.
"""

import contextlib
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
from django.db import Error as DatabaseError  # InterfaceError included
from django.db import connection, transaction

from outbox.services import LOADERS, SEPARATOR, TABLE

logger = logging.getLogger(__name__)
# librdkafka's own messages (connection refused while the broker is down…) go through logging too.
kafka_logger = logging.getLogger("kafka")
# Reference rows read by helper threads while earlier rows are published: each helper's database
# work overlaps the others' Python work (a row may stand for thousands of events, hence only a few).
LOADERS_AHEAD = 2
# The longest single wait for the broker's acknowledgements (each unanswered wait is logged, and
# doubles, from `Relay.flush_timeout`).
MAX_WAIT_S = 120.0


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
        # Never expire a message: one expired in flight may still be written by the broker, and
        # sending it again would publish it twice. The relay decides how long it waits.
        "message.timeout.ms": 0,
        "client.id": "voltwatch-outbox-relay",
        "logger": kafka_logger,
    }


@dataclass
class Relay:
    bootstrap_servers: str
    rows_per_batch: int = 200
    flush_timeout: float = 15.0  # the first wait for acknowledgements (and for topic creation)
    # None (the service): wait for the broker as long as it takes. A number (`--once`, tests): after
    # that many seconds without every acknowledgement, end the producer session (DeliveryFailed).
    give_up_after: float | None = None
    published: int = 0
    _producer: Producer | None = None
    _known_topics: set = field(default_factory=set)
    _failures: list = field(default_factory=list)  # messages the broker definitely refused
    # Rows whose every message the broker acknowledged but whose delete did not commit (PostgreSQL
    # went away): deleted next time, never published again.
    _acknowledged: set = field(default_factory=set)
    _deadline: float | None = None

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            # Delivery reports for failures only: success is a flush returning with nothing left.
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

    def _on_delivery(self, error, message) -> None:
        if error is not None:
            self._failures.append(message)

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
        """Produce the messages of `rows` and see every one of them acknowledged; the rows are then
        `_acknowledged`. Whatever interrupts the loading (PostgreSQL gone), the rows already produced
        are seen through too: they are in flight, and producing them again would send them twice."""
        self._failures = []
        self._deadline = None if self.give_up_after is None else time.monotonic() + self.give_up_after
        producer = self.producer
        produce, poll = producer.produce, producer.poll
        count, produced = 0, []
        batches = self._batches(cursor, rows, helped=helped)
        try:
            for (row_id, *_row), (topic, messages) in zip(rows, batches, strict=True):
                for key, value in messages:
                    while True:
                        try:
                            produce(topic, value, key)
                            break
                        except BufferError:  # the local queue is full: let it drain
                            poll(0.05)
                    count += 1
                produced.append(row_id)  # a loader yields a row's messages all or none
        finally:
            self._await_acknowledgements()
            self._acknowledged.update(produced)
        return count

    def _await_acknowledgements(self) -> None:
        """Until the broker has acknowledged every message produced. A message not answered yet
        is left to the idempotent producer, which retries it as one (the broker keeps one copy);
        only those the broker definitely refused are produced again."""
        while True:
            self._wait_for_answers()
            if not self._failures:
                return
            refused, self._failures = self._failures, []
            logger.warning("Kafka refused %d messages (%s); sending those again", len(refused), refused[0].error())
            time.sleep(min(1.0, self._time_left()))
            for message in refused:
                self.producer.produce(message.topic(), message.value(), message.key())

    def _wait_for_answers(self) -> None:
        """Flush until no message is waiting for its delivery report, logging each unanswered wait
        once (the waits double, from `flush_timeout`)."""
        started, wait = time.monotonic(), self.flush_timeout
        while remaining := self.producer.flush(min(wait, self._time_left())):
            waited = time.monotonic() - started
            if self._time_left() <= 0:
                raise DeliveryFailed(f"{remaining} messages unacknowledged after {waited:.0f} s")
            wait = min(wait * 2, MAX_WAIT_S)
            logger.warning(
                "Kafka has not acknowledged %d messages for %.0f s; waiting up to %.0f s more (nothing is sent twice)",
                remaining,
                waited,
                wait,
            )

    def _time_left(self) -> float:
        return MAX_WAIT_S if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def _discard_producer(self) -> None:
        if self._producer is not None:
            self._producer.purge()
            self._producer.flush(0)
            self._producer = None

    def relay_once(self) -> int:
        """Publish one batch of outbox rows. Returns the number of messages published."""
        return self._relay_batch()[1]

    def _relay_batch(self) -> tuple[int, int]:
        """(outbox rows done, messages published) of one batch; (0, 0) when the outbox is empty."""
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
                    return 0, 0
                waiting = [row for row in rows if row[0] not in self._acknowledged]
                count = 0
                if waiting:
                    self._ensure_topics({row[1] for row in waiting})
                    count = self._publish(cursor, waiting, helped=helped)
                cursor.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%s)", [[row[0] for row in rows]])
        except (DeliveryFailed, KafkaException) as exc:
            self._discard_producer()
            raise DeliveryFailed(str(exc)) from exc
        self._acknowledged.difference_update(row[0] for row in rows)
        self.published += count
        return len(rows), count

    def drain(self) -> int:
        """Publish until the outbox is empty (raises DeliveryFailed if the broker gave no answer
        within `give_up_after`, and PostgreSQL's errors)."""
        total = 0
        while True:
            rows, count = self._relay_batch()
            if not rows:
                return total
            total += count

    def run_forever(self, *, idle_sleep: float = 0.2, max_backoff: float = 30.0) -> None:
        """Relay until stopped. An outage of Kafka or PostgreSQL is waited out: one log line per
        retry, each retry later than the last, up to `max_backoff`."""
        backoff = 1.0
        while True:
            try:
                if not self._relay_batch()[0]:
                    time.sleep(idle_sleep)
                backoff = 1.0
                continue
            except DeliveryFailed as exc:
                logger.warning("Kafka unreachable, retrying in %.0f s: %s", backoff, exc)
            except DatabaseError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                logger.warning("PostgreSQL unreachable, retrying in %.0f s: %s", backoff, reason)
                with contextlib.suppress(DatabaseError):
                    connection.close()  # a broken connection goes back to the pool, which drops it
            time.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
