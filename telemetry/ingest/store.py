"""Store validated readings: one transaction writes the readings (COPY), the outbox batch, the
rollup bookkeeping and the threshold checker's marks; after the commit, the live pages hear of them.

Idempotent on (asset, time): the fast path COPYs straight into the readings table; only when that
hits a key already stored (a re-sent batch) does it fall back to a staging table, insert what is
new and compare, in SQL, the readings already stored with the ones sent. An identical one is a
duplicate; a different one is a conflict, which by the caller's choice (`OnConflict`) fails the
whole batch, replaces the stored reading, or is left as stored and reported.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from core.db import bound_cursor
from telemetry.ingest import copy_binary, events, live, thresholds
from telemetry.ingest.batch import UNIX_EPOCH_MICROS, Reading, ReadingBatch
from telemetry.metrics import COLUMNS, READING_TABLES

__all__ = [
    "Conflict",
    "Conflicting",
    "OnConflict",
    "Reading",
    "ReadingBatch",
    "Stored",
    "store_batch",
    "store_readings",
]

_MICROS_PER_HOUR = 3_600_000_000


class OnConflict(StrEnum):
    """What to do with a reading whose (asset, time) is stored already with other values."""

    REJECT = "reject"  # store nothing of the batch: raise Conflicting
    UPDATE = "update"  # replace the stored reading with the one sent
    SKIP = "skip"  # keep the stored reading, store the rest, report the conflict


@dataclass(frozen=True)
class Conflict:
    index: int  # the reading's position in the batch as the caller gave it
    asset_id: int
    time: datetime


@dataclass(frozen=True)
class Stored:
    """What became of a batch: `received` = `stored` (new) + `updated` (replaced) + duplicates
    (identical to the stored ones, or repeated in the batch) + `conflicts` (left as stored)."""

    received: int
    stored: int
    updated: int = 0
    conflicts: tuple[Conflict, ...] = ()

    @property
    def duplicates(self) -> int:
        return self.received - self.stored - self.updated - len(self.conflicts)


class Conflicting(Exception):
    """Readings differ from the ones stored at the same (asset, time); nothing was stored."""

    def __init__(self, conflicts: tuple[Conflict, ...]):
        super().__init__(f"{len(conflicts)} readings differ from the stored ones")
        self.conflicts = conflicts


def copy_batch(cursor, table: str, batch: ReadingBatch) -> None:
    """COPY `batch` into `table` in PostgreSQL's binary format (see `telemetry.ingest.copy_binary`)."""
    columns, data = copy_binary.encode(batch)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(data)


@dataclass(frozen=True)
class _Resent:
    written: ReadingBatch  # new and replaced readings, to announce
    inserted: int
    updated: int
    conflicting: list[int]  # positions in the batch of the readings that differ from the stored ones


def _differs(kind: str, derived_energy: bool) -> str:
    """SQL: the staged reading `s` differs from the stored one `t`. An energy delta the server
    derived from the previous reading (a meter's counter) is not something the device said, and
    may change with the readings around it: it counts only where the reading carried it."""
    columns = [name for name in COLUMNS[kind] if not (derived_energy and name == "energy_wh")]
    staged = ", ".join(f"s.{name}" for name in columns)
    stored = ", ".join(f"t.{name}" for name in columns)
    differs = f"ROW({staged}) IS DISTINCT FROM ROW({stored})"
    if derived_energy:
        differs += " OR (s.energy_wh IS DISTINCT FROM t.energy_wh AND derived.asset_id IS NULL)"
    return differs


def _store_resent(cursor, batch: ReadingBatch, on_conflict: OnConflict, derived_energy: list[int]) -> _Resent:
    """The slow path, for a batch some of whose keys are stored already: stage it, insert what is
    new, find the readings that differ from the stored ones and, if asked, replace those.
    `derived_energy`: the positions whose energy delta the server derived."""
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
    position = {key: index for index, key in enumerate(zip(batch.asset_ids, batch.times, strict=True))}
    conflicting: list[int] = []
    updated: set = set()
    if len(inserted) < len(batch):
        # The readings just inserted are compared too, and equal to themselves.
        differs = _differs(batch.kind, bool(derived_energy))
        derived_join, params = "", {}
        if derived_energy:
            derived_join = (
                "LEFT JOIN unnest(%(derived_assets)s::bigint[], %(derived_times)s::timestamptz[]) "
                "AS derived(asset_id, time) ON derived.asset_id = s.asset_id AND derived.time = s.time"
            )
            params = {
                "derived_assets": [batch.asset_ids[index] for index in derived_energy],
                "derived_times": [batch.times[index] for index in derived_energy],
            }
        if on_conflict == OnConflict.UPDATE:
            # Every metric column, so the reading becomes the one sent (what it does not carry is cleared).
            metrics = ", ".join(COLUMNS[batch.kind])
            staged = ", ".join(f"s.{name}" for name in COLUMNS[batch.kind])
            cursor.execute(
                f"UPDATE {table} t SET ({metrics}) = ({staged}) FROM {staging} s {derived_join} "
                f"WHERE t.asset_id = s.asset_id AND t.time = s.time AND ({differs}) RETURNING t.asset_id, t.time",
                params,
            )
            updated = set(cursor.fetchall())
        else:
            cursor.execute(
                f"SELECT s.asset_id, s.time FROM {staging} s JOIN {table} t USING (asset_id, time) {derived_join} "
                f"WHERE {differs}",
                params,
            )
            conflicting = sorted(position[key] for key in cursor.fetchall())
    cursor.execute(f"DROP TABLE {staging}")
    written = [index for index, key in enumerate(zip(batch.asset_ids, batch.times, strict=True)) if key in inserted]
    if updated:
        written = sorted(written + [position[key] for key in updated])
    return _Resent(batch.select(written), len(inserted), len(updated), conflicting)


def _stored(cursor, batch: ReadingBatch) -> None:
    """In one statement: mark the hours the readings fall in for the rollups, mark them unchecked
    for the threshold checker and, with the outbox on, queue their Kafka events (a reference that
    the relay resolves; see `telemetry.ingest.events`). Once committed, the live pages hear of them."""
    micros = batch.micros()
    unix_hour = {micro: (micro - UNIX_EPOCH_MICROS) // _MICROS_PER_HOUR for micro in set(micros)}
    hours = set(zip(batch.asset_ids, map(unix_hour.__getitem__, micros), strict=True))
    dirty = (
        "INSERT INTO telemetry_dirty_hour (kind, asset_id, hour) "
        "SELECT %s, unnest(%s::bigint[]), to_timestamp(unnest(%s::bigint[]) * 3600) ON CONFLICT DO NOTHING"
    )
    unchecked, unchecked_params = thresholds.mark_unchecked_sql(batch)
    statement = f"WITH dirty AS ({dirty}), unchecked AS ({unchecked}) "
    params = [batch.kind, [hour[0] for hour in hours], [hour[1] for hour in hours], *unchecked_params]
    if settings.OUTBOX_ENABLED:
        outbox_statement, outbox_params = events.enqueue_stored_sql(batch, connection.schema_name)
        statement += outbox_statement
        params += outbox_params
    else:
        statement += "SELECT 1"
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


def _derived_energy(batch: ReadingBatch, sent: Sequence | None) -> list[int]:
    """The positions of the readings whose energy delta `fill_energy_deltas` filled in."""
    derived = batch.values.get("energy_wh")
    if derived is None or derived is sent:
        return []
    sent = sent or [None] * len(batch)
    return [
        index
        for index, (given, value) in enumerate(zip(sent, derived, strict=True))
        if given is None and value is not None
    ]


def store_readings(kind: str, readings: Sequence[Reading], *, on_conflict: OnConflict = OnConflict.SKIP) -> Stored:
    """`store_batch` for readings built one by one (device adapters, the detailed validator)."""
    return store_batch(ReadingBatch.from_readings(kind, readings), on_conflict=on_conflict)


def store_batch(batch: ReadingBatch, *, on_conflict: OnConflict = OnConflict.SKIP) -> Stored:
    """Store `batch` (already validated) all-or-nothing, with what its readings imply (battery cell
    extremes and power, meter energy), and announce the new and replaced readings: Kafka through
    the outbox (same transaction), then the live pages and threshold rules (after the commit).
    Readings that differ from the stored ones at the same (asset, time) are handled as
    `on_conflict` says; with REJECT they raise `Conflicting` and nothing is stored."""
    received = len(batch)
    batch, positions = batch.without_repeats()
    sent_energy = batch.values.get("energy_wh")
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
        return Stored(received=received, stored=len(batch))
    except (IntegrityError, psycopg.errors.UniqueViolation):
        pass
    with transaction.atomic(), bound_cursor() as cursor:
        resent = _store_resent(cursor, batch, on_conflict, _derived_energy(batch, sent_energy))
        conflicts = tuple(
            Conflict(index if positions is None else positions[index], batch.asset_ids[index], batch.times[index])
            for index in resent.conflicting
        )
        if conflicts and on_conflict == OnConflict.REJECT:
            raise Conflicting(conflicts)  # leaving the block rolls back what was inserted
        if len(resent.written):
            _stored(cursor, resent.written)
    return Stored(received=received, stored=resent.inserted, updated=resent.updated, conflicts=conflicts)


def _after_commit(batch: ReadingBatch) -> None:
    live.readings_committed(connection.schema_name, batch)
