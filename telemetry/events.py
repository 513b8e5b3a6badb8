"""Kafka events of stored readings.

A batch's transaction writes one outbox reference — the tenant, the kind, the assets, the time
range and the transaction id that inserted the rows — instead of one serialised event per reading.
The relay builds the events from the rows themselves (`reading_events`): each event says exactly
what was stored, derived values included, and ingestion does not pay for JSON it never reads.
Event shape (schema version 1), keyed `tenant:asset`:
`{"schema_version", "tenant", "kind", "asset", "asset_ref", "time", "values"}`.
"""

from collections.abc import Iterator
from itertools import compress, repeat
from operator import is_not

import orjson
import psycopg
from django.conf import settings
from orjson import Fragment
from psycopg import sql

from outbox import services as outbox
from telemetry.batch import ReadingBatch
from telemetry.metrics import ARRAY_METRICS, COLUMNS, METRICS, READING_TABLES
from telemetry.selectors import REF_FIELDS, asset_model

SCHEMA_VERSION = 1
LOADER = "telemetry.readings"


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
    retention — has no event any more).

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
    prefixes: dict[int, tuple[str, bytes]] = {}
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
            prefix = prefixes[asset_id] = (f"{schema}:{asset_id}", head[:-1] + b",")
        # The metrics the row has, picked in C (no Python code per value); `{"time", "values"}`
        # serialised in one call and spliced after the asset's cached head.
        present = dict(compress(zip(names, values, strict=True), map(is_not, values, repeat(None))))
        for name in arrays & present.keys():
            present[name] = Fragment(present[name])
        yield prefix[0], prefix[1] + dumps({"time": time, "values": present}, option=utc_z)[1:]
