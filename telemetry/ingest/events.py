"""Kafka events of stored readings.

A batch's transaction writes one outbox reference — the tenant, the kind, the assets, the time
range and the transaction id that inserted the rows — instead of one serialised event per reading.
The relay builds the events from the rows themselves (`reading_events`): each event says exactly
what was stored, derived values included, and ingestion does not pay for JSON it never reads.
Event shape (schema version 1), keyed `tenant:asset`:
`{"schema_version", "tenant", "kind", "asset", "asset_ref", "event_id", "time", "values"}`.

`event_id` names the reading, not the sending: the same
stored reading always gets the same id (`event_id()`), so a consumer drops the duplicates that
at-least-once delivery allows (a relay restarted between the broker's acknowledgement and the
outbox row's delete sends that batch again).
"""

import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from itertools import compress, repeat
from operator import is_not

import orjson
import psycopg
from django.conf import settings
from orjson import Fragment
from psycopg import sql

from outbox import services as outbox
from telemetry.ingest.batch import ReadingBatch
from telemetry.metrics import ARRAY_METRICS, COLUMNS, METRICS, READING_TABLES
from telemetry.selectors import REF_FIELDS, asset_model

SCHEMA_VERSION = 1
LOADER = "telemetry.readings"
# The namespace of the events' name-based (version 5) UUIDs: part of the published contract.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c3e5a-3b7e-5d0e-9a51-0c2f7d0b8e41")


def event_id(tenant: str, kind: str, asset: int, time: datetime) -> str:
    """The id of the event of one stored reading: `uuid5(EVENT_ID_NAMESPACE, "tenant:kind:asset:time")`,
    `time` written as in the event (RFC 3339, UTC, `Z`, microseconds only when not zero)."""
    when = orjson.dumps(time, option=orjson.OPT_UTC_Z)[1:-1].decode()
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{tenant}:{kind}:{asset}:{when}"))


# The RFC 4122 variant's first hex digit, for each digit the hash gave (its top bits set to 10).
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _uuid5_hex(named, name_tail: bytes) -> str:
    """`event_id()` for the loader: the SHA-1 of namespace and `tenant:kind:asset:` is computed once
    per asset and copied (uuid.uuid5 per event cost twice as much); the version (5) and variant
    digits are set in the hex text (a third cheaper than setting bits in bytes)."""
    digest = named.copy()
    digest.update(name_tail)
    text = digest.hexdigest()
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT_DIGIT[text[16]]}{text[17:20]}-{text[20:32]}"


def enqueue_stored_sql(batch: ReadingBatch, schema: str) -> tuple[str, list]:
    """The statement (and its parameters) that queues the events of `batch`, just stored by the
    current (sub)transaction: their reference, completed in SQL with the `xmin` of the first one's
    row, i.e. the id of the transaction that inserted them all."""
    source = {
        "schema": schema,
        "kind": batch.kind,
        "assets": sorted(set(batch.asset_ids)),
        "start": min(batch.times).isoformat(),
        "end": max(batch.times).isoformat(),
    }
    inserted_by = (
        "jsonb_build_object('xmin', "
        f"(SELECT xmin::text FROM {READING_TABLES[batch.kind]} WHERE asset_id = %s AND time = %s))"
    )
    return outbox.source_statement(
        settings.KAFKA_TOPICS[batch.kind],
        LOADER,
        len(batch),
        source,
        merge=inserted_by,
        merge_params=[batch.asset_ids[0], batch.times[0]],
    )


def _rows_query(schema: str, kind: str) -> sql.Composed:
    return sql.SQL(
        "SELECT r.asset_id, r.time, {columns} FROM {schema}.{readings} r"
        " WHERE r.asset_id = ANY(%s) AND r.time BETWEEN %s AND %s AND r.xmin = %s::xid"
        " ORDER BY r.asset_id, r.time"
    ).format(
        columns=sql.SQL(", ").join(map(_column, METRICS[kind])),
        schema=sql.Identifier(schema),
        readings=sql.Identifier(READING_TABLES[kind]),
    )


def _column(metric) -> sql.Composable:
    """A metric's column; arrays as their JSON text, spliced into the event as it is: psycopg
    building a list of floats from the binary array, and orjson writing it again, cost more."""
    column = sql.SQL("r.{}").format(sql.Identifier(metric.name))
    return sql.SQL("array_to_json({})::text").format(column) if metric.kind == "float[]" else column


def _refs_query(schema: str, kind: str) -> sql.Composed:
    asset_table, ref_field = asset_model(kind)._meta.db_table, REF_FIELDS[kind]
    return sql.SQL("SELECT id, {ref} FROM {schema}.{assets} WHERE id = ANY(%s)").format(
        ref=sql.Identifier(ref_field), schema=sql.Identifier(schema), assets=sql.Identifier(asset_table)
    )


@outbox.register_loader(LOADER)
def reading_events(cursor, source: dict) -> Iterator[tuple[str, bytes]]:
    """The events of one stored batch, from its rows (a reading deleted since — its asset deleted,
    retention — has no event any more), as (key, JSON).

    Rows come in PostgreSQL's binary format, arrays as JSON text (see `_column`), and are serialised
    here: PostgreSQL's json_build_object of the whole row cost three times as much per row."""
    schema, kind = source["schema"], source["kind"]
    with psycopg.Cursor(cursor.connection) as binary:
        binary.execute(_refs_query(schema, kind), [source["assets"]])
        refs = dict(binary.fetchall())
        binary.execute(
            _rows_query(schema, kind), [source["assets"], source["start"], source["end"], source["xmin"]], binary=True
        )
        rows = binary.fetchall()
    names, arrays = COLUMNS[kind], ARRAY_METRICS[kind]
    dumps, utc_z = orjson.dumps, orjson.OPT_UTC_Z
    prefixes: dict[int, tuple[str, bytes, object]] = {}
    for asset_id, time, *values in rows:
        prefix = prefixes.get(asset_id)
        if prefix is None:
            head = dumps(
                {
                    "schema_version": SCHEMA_VERSION,
                    "tenant": schema,
                    "kind": kind,
                    "asset": asset_id,
                    "asset_ref": refs.get(asset_id, ""),
                }
            )
            name = EVENT_ID_NAMESPACE.bytes + f"{schema}:{kind}:{asset_id}:".encode()
            named = hashlib.sha1(name, usedforsecurity=False)
            prefix = prefixes[asset_id] = (f"{schema}:{asset_id}", head[:-1] + b",", named)
        # The metrics the row has, picked in C (no Python code per value); `{"event_id", "time",
        # "values"}` serialised in one call and spliced after the asset's cached head.
        present = dict(compress(zip(names, values, strict=True), map(is_not, values, repeat(None))))
        for name in arrays & present.keys():
            present[name] = Fragment(present[name])
        when = dumps(time, option=utc_z)
        event = _uuid5_hex(prefix[2], when[1:-1])
        body = dumps({"event_id": event, "time": Fragment(when), "values": present}, option=utc_z)
        yield prefix[0], prefix[1] + body[1:]
