"""Store validated readings: one transaction writes the readings (COPY), the outbox batch and the
rollup bookkeeping; after the commit, the live pages and the threshold rules hear of them.

Idempotent on (asset, time): the fast path COPYs straight into the readings table inside a
savepoint; only when that hits a key already stored (a re-sent batch) does it fall back to a staging
table and `INSERT … ON CONFLICT DO NOTHING`, storing and announcing only the new readings.
"""

import struct
import sys
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from core.db import bound_cursor
from telemetry import events
from telemetry.metrics import METRICS, READING_TABLES

# Arrays travel pre-encoded in PostgreSQL's binary array format (see `float8_arrays`), declared as
# bytea so that psycopg passes the bytes through: its own list dumper runs in Python, per element.
_PG_TYPES = {"float": "float8", "int": "int8", "text": "text", "bool": "bool", "float[]": "bytea"}
ARRAY_COLUMNS = {kind: {m.name for m in metrics if m.kind == "float[]"} for kind, metrics in METRICS.items()}
FLOAT8_OID = 701
COLUMNS = {kind: [m.name for m in metrics] for kind, metrics in METRICS.items()}
ARRAY_INDEXES = {kind: [i for i, name in enumerate(COLUMNS[kind]) if name in ARRAY_COLUMNS[kind]] for kind in COLUMNS}
COPY_TYPES = {kind: ["int8", "timestamptz", *(_PG_TYPES[m.kind] for m in metrics)] for kind, metrics in METRICS.items()}


_ARRAY_HEADERS: dict[int, bytes] = {}
_LENGTH_8 = b"\x08"
_SWAP = sys.byteorder == "little"  # the wire format is big-endian


def float8_arrays(arrays: Sequence[list[float]]) -> list[bytes]:
    """Each list as a one-dimensional float8[] in PostgreSQL's binary format (array_recv): a header
    (ndim 1, no nulls, element type, length, lower bound 1), then each element as (int32 length 8,
    big-endian double).

    A whole batch is converted at once: every element into one C array, byte-swapped in one call,
    then spread into the 12-byte element slots by eight strided copies; per array there is only a
    slice and a concatenation (half the cost of one `struct.pack` of interleaved lengths per array)."""
    flat = array("d")
    for values in arrays:
        flat.extend(values)
    if _SWAP:
        flat.byteswap()
    raw = flat.tobytes()
    total = len(flat)
    slots = bytearray(12 * total)
    slots[3::12] = _LENGTH_8 * total
    for byte in range(8):
        slots[4 + byte :: 12] = raw[byte::8]
    encoded, offset = [], 0
    headers, append = _ARRAY_HEADERS, encoded.append
    for values in arrays:
        count = len(values)
        header = headers.get(count)
        if header is None:
            header = headers[count] = struct.pack(">iiIii", 1, 0, FLOAT8_OID, count, 1)
        end = offset + 12 * count
        append(header + slots[offset:end])
        offset = end
    return encoded


def copy_rows(kind: str, readings: Sequence["Reading"]) -> list[list]:
    """The COPY rows of `readings`: asset, time, then every metric of the kind's table in order."""
    columns = COLUMNS[kind]
    rows = [[r.asset_id, r.time, *map(r.values.get, columns)] for r in readings]
    for index in ARRAY_INDEXES[kind]:
        index += 2
        present = [row for row in rows if row[index] is not None]
        for row, encoded in zip(present, float8_arrays([row[index] for row in present]), strict=True):
            row[index] = encoded
    return rows


@dataclass(slots=True)
class Reading:
    asset_id: int
    time: datetime
    values: dict


@dataclass(frozen=True)
class Stored:
    received: int
    stored: int

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


def _copy(cursor, kind: str, table: str, rows: Sequence[tuple]) -> None:
    columns = ", ".join(["asset_id", "time", *COLUMNS[kind]])
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(COPY_TYPES[kind])
        write = copy.write_row
        for row in rows:
            write(row)


def _insert_new_only(cursor, kind: str, rows: Sequence[tuple]) -> set[tuple[int, datetime]]:
    """The slow path for re-sent readings: stage, then insert what is not stored yet."""
    table = READING_TABLES[kind]
    staging = f"_ingest_{kind}"
    columns = ", ".join(["asset_id", "time", *COLUMNS[kind]])
    cursor.execute(f"CREATE TEMP TABLE {staging} (LIKE {table}) ON COMMIT DROP")
    _copy(cursor, kind, staging, rows)
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "
        f"ON CONFLICT (asset_id, time) DO NOTHING RETURNING asset_id, time"
    )
    inserted = set(cursor.fetchall())
    cursor.execute(f"DROP TABLE {staging}")
    return inserted


def _stored(kind: str, readings: list[Reading]) -> None:
    """In one statement: mark the hours the readings fall in for the rollups and, with the outbox
    on, queue their Kafka events (a reference that the relay resolves; see `telemetry.events`).
    Once committed, the live pages and threshold rules hear of them."""
    # Hours as integers (seconds // 3600): far cheaper per reading than datetime.replace.
    hours = {(r.asset_id, int(r.time.timestamp()) // 3600) for r in readings}
    statement = (
        "INSERT INTO telemetry_dirty_hour (kind, asset_id, hour) "
        "SELECT %s, unnest(%s::bigint[]), to_timestamp(unnest(%s::bigint[]) * 3600) ON CONFLICT DO NOTHING"
    )
    params = [kind, [h[0] for h in hours], [h[1] for h in hours]]
    if settings.OUTBOX_ENABLED:
        outbox_statement, outbox_params = events.enqueue_stored_sql(kind, connection.schema_name, readings)
        statement = f"WITH dirty AS ({statement}) {outbox_statement}"
        params += outbox_params
    with bound_cursor() as cursor:
        cursor.execute(statement, params)
    transaction.on_commit(lambda: _after_commit(kind, readings))


def fill_energy_deltas(readings: Sequence[Reading]) -> None:
    """Meters report a cumulative energy counter (Shelly's `aenergy.total`, Wh). The energy of each
    interval is the counter's difference with the previous reading; a counter that went down was
    reset (device restart or factory reset), and the energy since the reset is the new value."""
    by_asset: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        if reading.values.get("energy_total_wh") is not None and reading.values.get("energy_wh") is None:
            by_asset[reading.asset_id].append(reading)
    if not by_asset:
        return
    firsts = {asset_id: min(r.time for r in items) for asset_id, items in by_asset.items()}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.asset_id, p.energy_total_wh
            FROM unnest(%s::bigint[], %s::timestamptz[]) AS a(asset_id, first_time)
            CROSS JOIN LATERAL (
              SELECT energy_total_wh FROM telemetry_meter_reading r
              WHERE r.asset_id = a.asset_id AND r.time < a.first_time AND r.energy_total_wh IS NOT NULL
              ORDER BY r.time DESC LIMIT 1
            ) p
            """,
            [list(firsts), list(firsts.values())],
        )
        previous = dict(cursor.fetchall())
    for asset_id, items in by_asset.items():
        last = previous.get(asset_id)
        for reading in sorted(items, key=lambda r: r.time):
            total = reading.values["energy_total_wh"]
            if last is not None:
                reading.values["energy_wh"] = total - last if total >= last else total
            last = total


def store_readings(kind: str, readings: Sequence[Reading]) -> Stored:
    """Store `readings` (already validated) all-or-nothing and announce the new ones: Kafka through
    the outbox (same transaction), then the live pages and threshold rules (after the commit)."""
    received = len(readings)
    unique: dict[tuple[int, datetime], Reading] = {}
    for reading in readings:
        unique.setdefault((reading.asset_id, reading.time), reading)
    readings = list(unique.values())
    if kind == "meter":
        fill_energy_deltas(readings)
    rows = copy_rows(kind, readings)
    # Fast path: straight COPY. Without a savepoint (two round trips per batch), so a re-sent batch
    # aborts the whole transaction and the slow path starts a new one (inside a caller's
    # transaction, `atomic` makes each attempt a savepoint and the same holds).
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _copy(cursor, kind, READING_TABLES[kind], rows)
            _stored(kind, readings)
    except (IntegrityError, psycopg.errors.UniqueViolation):
        with transaction.atomic(), connection.cursor() as cursor:
            inserted = _insert_new_only(cursor, kind, rows)
            readings = [r for r in readings if (r.asset_id, r.time) in inserted]
            if readings:
                _stored(kind, readings)
    return Stored(received=received, stored=len(readings))


def _after_commit(kind: str, readings: list[Reading]) -> None:
    from telemetry import live

    live.readings_committed(connection.schema_name, kind, readings)
