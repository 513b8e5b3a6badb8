"""Our binary COPY encoder (telemetry/ingest/copy_binary.py) writes exactly the bytes psycopg's own
`write_row` writes for the same rows and column types: NULLs, arrays of several lengths (and empty),
UTF-8 texts of several byte lengths, integers, booleans, microseconds."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from psycopg.copy import Copy, FileWriter

from telemetry.ingest import copy_binary
from telemetry.ingest.batch import Reading, ReadingBatch
from telemetry.metrics import READING_TABLES

T0 = datetime(2026, 11, 20, 8, 0, 0, 123456, tzinfo=UTC)

BATTERY_READINGS = [
    Reading(7, T0, {"voltage": 51.2, "current": -10.5, "soc": 80.0, "cell_voltages": [3.2, 3.21, 3.19]}),
    Reading(7, T0 + timedelta(seconds=1), {"voltage": 51.3, "state": "charging", "error_flags": 2**40}),
    Reading(8, T0 + timedelta(seconds=2), {"cell_voltages": [], "state": "décharge", "temperature": -4.25}),
    Reading(8, T0 + timedelta(seconds=3), {"cell_voltages": [3.3] * 16, "cell_temperatures": [21.5, 22.0]}),
    Reading(9, T0 + timedelta(days=400), {}),
]
METER_READINGS = [
    Reading(3, T0, {"power": 1200.0, "energy_total_wh": 10.5, "output": True}),
    Reading(3, T0 + timedelta(minutes=1), {"power": 0.0, "output": False}),
    Reading(4, T0, {"voltage": 230.1}),
]


def psycopg_bytes(kind: str, columns: list[str], rows: list[tuple]) -> bytes:
    """What psycopg's `write_row` sends for `rows`, captured instead of sent, with the table's types."""
    table = READING_TABLES[kind]
    with schema_context("alpha"), connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's own
        cursor.execute(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        types = dict(cursor.fetchall())
        captured = io.BytesIO()
        fresh = cursor.connection.cursor()  # a cursor that ran nothing: Copy checks the last result
        with Copy(fresh, binary=True, writer=FileWriter(captured)) as copy:
            copy.set_types([types[column] for column in columns])
            for row in rows:
                copy.write_row(row)
    return captured.getvalue()


@pytest.mark.parametrize(("kind", "readings"), [("battery", BATTERY_READINGS), ("meter", METER_READINGS)])
def test_the_encoder_writes_what_psycopg_writes(alpha, kind, readings):
    batch = ReadingBatch.from_readings(kind, readings)

    columns, ours = copy_binary.encode(batch)

    rows = [(r.asset_id, r.time, *(r.values.get(name) for name in columns[2:])) for r in readings]
    assert columns[:2] == ["asset_id", "time"]
    assert ours == psycopg_bytes(kind, columns, rows)
