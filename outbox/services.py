"""Write messages to the outbox, inside the caller's transaction."""

from collections.abc import Sequence

import orjson
from django.db import connection

from outbox.models import OutboxBatch

TABLE = f"public.{OutboxBatch._meta.db_table}"


SEPARATOR = "\x1f"  # between a message's key and its JSON value; messages are one per line


def enqueue(topic: str, messages: Sequence[tuple[str, object]]) -> None:
    """Queue `(key, value)` messages for `topic`; the relay publishes them once the transaction
    commits, and never if it rolls back. Values must be JSON-serialisable (datetimes allowed).

    Each value is serialised here, once: the relay publishes the lines as they are, without parsing.
    """
    if not messages:
        return
    dumps, option = orjson.dumps, orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
    enqueue_lines(topic, [f"{key}{SEPARATOR}{dumps(value, option=option).decode()}" for key, value in messages])


def enqueue_lines(topic: str, lines: Sequence[str]) -> None:
    """Like `enqueue`, for callers that serialise their messages themselves: each line is
    `key + SEPARATOR + JSON value`."""
    if not lines:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (topic, messages, payload, created_at) VALUES (%s, %s, %s, now())",
            [topic, len(lines), "\n".join(lines)],
        )


def backlog() -> tuple[int, float | None]:
    """Messages waiting, and the age in seconds of the oldest (None when empty)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(sum(messages), 0), extract(epoch FROM now() - min(created_at)) FROM {TABLE}")
        waiting, age = cursor.fetchone()
    return int(waiting), (float(age) if age is not None else None)
