"""Kafka events of stored readings.

A batch's transaction writes one outbox reference — the tenant, the kind, the assets, the time
range and the transaction id that inserted the rows — instead of one serialised event per reading.
The relay builds the events from the rows themselves (`reading_events`): each event says exactly
what was stored, derived values included, and ingestion does not pay for JSON it never reads.
Event shape (schema version 1), keyed `tenant:asset`:
`{"schema_version", "tenant", "kind", "asset", "asset_ref", "time", "values"}`.
"""

from collections.abc import Iterator, Sequence

import orjson
from django.conf import settings
from psycopg import sql

from outbox import services as outbox
from telemetry.metrics import METRICS

SCHEMA_VERSION = 1
LOADER = "telemetry.readings"
READING_TABLES = {"battery": "telemetry_battery_reading", "meter": "telemetry_meter_reading"}
ASSET_TABLES = {"battery": ("telemetry_battery", "serial"), "meter": ("telemetry_meter", "device_id")}


def enqueue_stored_sql(kind: str, schema: str, readings: Sequence) -> tuple[str, list]:
    """The statement (and its parameters) that queues the events of `readings`, just stored by the
    current (sub)transaction: their reference, completed in SQL with the `xmin` of the first one's
    row, i.e. the id of the transaction that inserted them all."""
    times = [r.time for r in readings]
    first = readings[0]
    source = {
        "schema": schema,
        "kind": kind,
        "assets": sorted({r.asset_id for r in readings}),
        "start": min(times).isoformat(),
        "end": max(times).isoformat(),
    }
    inserted_by = (
        f"jsonb_build_object('xmin', (SELECT xmin::text FROM {READING_TABLES[kind]} WHERE asset_id = %s AND time = %s))"
    )
    return outbox.source_statement(
        settings.KAFKA_TOPICS[kind],
        LOADER,
        len(readings),
        source,
        merge=inserted_by,
        merge_params=[first.asset_id, first.time],
    )


# The time as a JSON string, as the API writes times (UTC, a Z, microseconds only when there are
# some), formatted by PostgreSQL: loading a timestamptz in Python cost more than the rest of a row.
_TIME_JSON = (
    "'\"' || to_char(r.time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN extract(microseconds FROM r.time)::int %% 1000000 <> 0"
    " THEN to_char(r.time AT TIME ZONE 'UTC', '.US') ELSE '' END || 'Z\"'"
)


def _column(metric) -> sql.Composable:
    if metric.kind == "float[]":
        # As JSON text ({1,2} → [1,2]), passed through untouched: parsing arrays cost the most per row.
        return sql.SQL("translate(r.{}::text, '{{}}', '[]')").format(sql.Identifier(metric.name))
    return sql.SQL("r.{}").format(sql.Identifier(metric.name))


def _rows_query(schema: str, kind: str) -> sql.Composed:
    asset_table, ref_field = ASSET_TABLES[kind]
    return sql.SQL(
        "SELECT r.asset_id, a.{ref}, {time}, {columns}"
        " FROM {schema}.{readings} r JOIN {schema}.{assets} a ON a.id = r.asset_id"
        " WHERE r.asset_id = ANY(%s) AND r.time BETWEEN %s AND %s AND r.xmin = %s::xid"
        " ORDER BY r.asset_id, r.time"
    ).format(
        ref=sql.Identifier(ref_field),
        time=sql.SQL(_TIME_JSON),
        columns=sql.SQL(", ").join(_column(metric) for metric in METRICS[kind]),
        schema=sql.Identifier(schema),
        readings=sql.Identifier(READING_TABLES[kind]),
        assets=sql.Identifier(asset_table),
    )


@outbox.register_loader(LOADER)
def reading_events(cursor, source: dict) -> Iterator[tuple[str, bytes]]:
    """The events of one stored batch, from its rows (a reading deleted since — its asset deleted,
    retention — has no event any more). Serialised here rather than with PostgreSQL's
    json_build_object, which cost three times as much per row."""
    schema, kind = source["schema"], source["kind"]
    cursor.execute(_rows_query(schema, kind), [source["assets"], source["start"], source["end"], source["xmin"]])
    names = [metric.name for metric in METRICS[kind]]
    arrays = {index for index, metric in enumerate(METRICS[kind]) if metric.kind == "float[]"}
    dumps = orjson.dumps
    prefixes: dict[int, tuple[str, bytes]] = {}
    fragment = orjson.Fragment
    for asset_id, ref, time, *values in cursor.fetchall():
        for index in arrays:
            if values[index] is not None:
                values[index] = fragment(values[index])
        prefix = prefixes.get(asset_id)
        if prefix is None:
            head = dumps(
                {"schema_version": SCHEMA_VERSION, "tenant": schema, "kind": kind, "asset": asset_id, "asset_ref": ref}
            )
            prefix = prefixes[asset_id] = (f"{schema}:{asset_id}", head[:-1] + b',"time":')
        present = {name: value for name, value in zip(names, values, strict=True) if value is not None}
        yield prefix[0], prefix[1] + time.encode() + b',"values":' + dumps(present) + b"}"
