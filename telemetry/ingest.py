"""Store validated readings: one transaction writes the readings (COPY), the outbox batch and the
rollup bookkeeping; after the commit, the live pages and the threshold rules hear of them.

Idempotent on (asset, time): the fast path COPYs straight into the readings table; only when that
hits a key already stored (a re-sent batch) does it fall back to a staging table and
`INSERT … ON CONFLICT DO NOTHING`, storing and announcing only the new readings.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from core.db import bound_cursor
from telemetry import copy_binary, events
from telemetry.batch import UNIX_EPOCH_MICROS, Reading, ReadingBatch
from telemetry.metrics import READING_TABLES

__all__ = ["Reading", "ReadingBatch", "Stored", "store_batch", "store_readings"]

_MICROS_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class Stored:
    received: int
    stored: int

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


def copy_batch(cursor, table: str, batch: ReadingBatch) -> None:
    """COPY `batch` into `table` in PostgreSQL's binary format (see `telemetry.copy_binary`)."""
    columns, data = copy_binary.encode(batch)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(data)


def _insert_new_only(cursor, batch: ReadingBatch) -> ReadingBatch:
    """The slow path for re-sent readings: stage, then insert what is not stored yet; returns
    the readings that were new."""
    table = READING_TABLES[batch.kind]
    staging = f"_ingest_{batch.kind}"
    columns = ", ".join(["asset_id", "time", *batch.values])
    cursor.execute(f"CREATE TEMP TABLE {staging} (LIKE {table}) ON COMMIT DROP")
    copy_batch(cursor, staging, batch)
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "
        f"ON CONFLICT (asset_id, time) DO NOTHING RETURNING asset_id, time"
    )
    inserted = set(cursor.fetchall())
    cursor.execute(f"DROP TABLE {staging}")
    keys = zip(batch.asset_ids, batch.times, strict=True)
    return batch.select([index for index, key in enumerate(keys) if key in inserted])


def _stored(cursor, batch: ReadingBatch) -> None:
    """In one statement: mark the hours the readings fall in for the rollups and, with the outbox
    on, queue their Kafka events (a reference that the relay resolves; see `telemetry.events`).
    Once committed, the live pages and threshold rules hear of them."""
    micros = batch.micros()
    unix_hour = {micro: (micro - UNIX_EPOCH_MICROS) // _MICROS_PER_HOUR for micro in set(micros)}
    hours = set(zip(batch.asset_ids, map(unix_hour.__getitem__, micros), strict=True))
    statement = (
        "INSERT INTO telemetry_dirty_hour (kind, asset_id, hour) "
        "SELECT %s, unnest(%s::bigint[]), to_timestamp(unnest(%s::bigint[]) * 3600) ON CONFLICT DO NOTHING"
    )
    params = [batch.kind, [hour[0] for hour in hours], [hour[1] for hour in hours]]
    if settings.OUTBOX_ENABLED:
        outbox_statement, outbox_params = events.enqueue_stored_sql(batch, connection.schema_name)
        statement = f"WITH dirty AS ({statement}) {outbox_statement}"
        params += outbox_params
    cursor.execute(statement, params)
    transaction.on_commit(lambda: _after_commit(batch))


def fill_energy_deltas(batch: ReadingBatch) -> None:
    """Meters report a cumulative energy counter (Shelly's `aenergy.total`, Wh). The energy of each
    interval is the counter's difference with the previous reading; a counter that went down was
    reset (device restart or factory reset), and the energy since the reset is the new value."""
    totals = batch.values.get("energy_total_wh")
    if totals is None:
        return
    energies = list(batch.values.get("energy_wh") or [None] * len(batch))
    by_asset: dict[int, list[int]] = {}
    for index, (asset_id, total, energy) in enumerate(zip(batch.asset_ids, totals, energies, strict=True)):
        if total is not None and energy is None:
            by_asset.setdefault(asset_id, []).append(index)
    if not by_asset:
        return
    moment = batch.times.__getitem__
    firsts = {asset_id: min(map(moment, indexes)) for asset_id, indexes in by_asset.items()}
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
    for asset_id, indexes in by_asset.items():
        last = previous.get(asset_id)
        for index in sorted(indexes, key=moment):
            total = totals[index]
            if last is not None:
                energies[index] = total - last if total >= last else total
            last = total
    if energies.count(None) != len(energies):
        batch.values["energy_wh"] = energies


def store_readings(kind: str, readings: Sequence[Reading]) -> Stored:
    """`store_batch` for readings built one by one (device adapters, the detailed validator)."""
    return store_batch(ReadingBatch.from_readings(kind, readings))


def store_batch(batch: ReadingBatch) -> Stored:
    """Store `batch` (already validated) all-or-nothing, with what its readings imply (battery cell
    extremes and power, meter energy), and announce the new readings: Kafka through the outbox
    (same transaction), then the live pages and threshold rules (after the commit)."""
    received = len(batch)
    batch = batch.without_repeats()
    if batch.kind == "battery":
        batch.derive_battery_values()
    elif batch.kind == "meter":
        fill_energy_deltas(batch)
    table = READING_TABLES[batch.kind]
    # Fast path: straight COPY. Without a savepoint (two round trips per batch), so a re-sent batch
    # aborts the whole transaction and the slow path starts a new one (inside a caller's
    # transaction, `atomic` makes each attempt a savepoint and the same holds).
    try:
        with transaction.atomic(), bound_cursor() as cursor:
            copy_batch(cursor, table, batch)
            _stored(cursor, batch)
    except (IntegrityError, psycopg.errors.UniqueViolation):
        with transaction.atomic(), bound_cursor() as cursor:
            batch = _insert_new_only(cursor, batch)
            if len(batch):
                _stored(cursor, batch)
    return Stored(received=received, stored=len(batch))


def _after_commit(batch: ReadingBatch) -> None:
    from telemetry import live

    live.readings_committed(connection.schema_name, batch)
