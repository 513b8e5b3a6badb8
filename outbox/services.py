"""Write messages to the outbox, inside the caller's transaction."""

from collections.abc import Callable, Iterable, Sequence

import orjson
from django.db import connection
from django.utils import timezone

from outbox.models import OutboxBatch

TABLE = f"public.{OutboxBatch._meta.db_table}"


SEPARATOR = "\x1f"  # between a message's key and its JSON value; messages are one per line

# name → function(cursor, source) yielding the (key, JSON value, event id) messages a `source` row
# stands for, all of them or none (the relay counts a row published once it yielded them all); the
# event id, if not None, is sent as the message's `event_id` header.
Loader = Callable[[object, dict], Iterable[tuple[str, str | bytes, str | None]]]
LOADERS: dict[str, Loader] = {}


def register_loader(name: str) -> Callable[[Loader], Loader]:
    def register(function: Loader) -> Loader:
        LOADERS[name] = function
        return function

    return register


def source_statement(
    topic: str, loader: str, messages: int, source: dict, *, merge: str = "", merge_params: Sequence = ()
) -> tuple[str, list]:
    """An INSERT (and its parameters) of one outbox row standing for `messages` messages, which the
    relay builds with `loader` from rows the same transaction wrote: `source` says which, plus the
    jsonb object the SQL expression `merge` evaluates to, if given (what only the database knows,
    such as the id of the transaction that wrote the rows). The transaction writes a reference of a
    few bytes instead of the messages. The loader must be registered in every process that runs
    the relay (an app's `ready()`)."""
    if loader not in LOADERS:
        raise ValueError(f"No outbox loader named {loader!r}")
    value = f"%s::jsonb || {merge}" if merge else "%s::jsonb"
    columns = "topic, messages, payload, created_at, source"
    statement = f"INSERT INTO {TABLE} ({columns}) VALUES (%s, %s, '', now(), {value})"
    return statement, [topic, messages, orjson.dumps({"loader": loader, **source}).decode(), *merge_params]


def enqueue(topic: str, messages: Sequence[tuple[str, object]]) -> None:
    """Queue `(key, value)` messages for `topic`; the relay publishes them once the transaction
    commits, and never if it rolls back. Values must be JSON-serialisable (datetimes allowed).

    Each value is serialised here, once: the relay publishes the lines as they are, without parsing.
    """
    if not messages:
        return
    dumps, option = orjson.dumps, orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
    enqueue_lines(topic, [f"{key}{SEPARATOR}".encode() + dumps(value, option=option) for key, value in messages])


def enqueue_lines(topic: str, lines: Sequence[bytes]) -> None:
    """Like `enqueue`, for callers that serialise their messages themselves: each line is the UTF-8
    of `key + SEPARATOR + JSON value`.

    Sent by binary COPY: a parameter of a plain INSERT is escaped character by character in Python,
    which for a batch's megabytes of JSON cost more than writing it."""
    if not lines:
        return
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {TABLE} (topic, messages, payload, created_at) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        # `payload` is text; declared bytea so the already-encoded bytes pass through untouched.
        copy.set_types(["text", "int4", "bytea", "timestamptz"])
        copy.write_row((topic, len(lines), b"\n".join(lines), timezone.now()))


def backlog() -> tuple[int, float | None]:
    """Messages waiting, and the age in seconds of the oldest (None when empty)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(sum(messages), 0), extract(epoch FROM now() - min(created_at)) FROM {TABLE}")
        waiting, age = cursor.fetchone()
    return int(waiting), (float(age) if age is not None else None)
