"""Time series of readings, read from the raw tables or from the rollups depending on the range.

raw   every reading (refused beyond MAX_RAW_POINTS: choose an interval)
1m    one-minute buckets aggregated from the raw readings
1h    hourly rollups (the last two hours computed from raw, as rollups trail ingestion by a minute)
1d    local days of `tz`: the tenant's daily rollups, or days composed from hourly and quarter-hour rollups
auto  the finest of those that keeps a series under about 3,000 points
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from telemetry import rollups
from telemetry.metrics import METRIC_BY_NAME, READING_TABLES, ROLLUP_METRICS
from telemetry.rollups import tenant_time_zone

INTERVALS = ("raw", "1m", "1h", "1d", "auto")
AGGREGATES = ("avg", "min", "max", "sum", "count", "last")
MAX_RAW_POINTS = 50_000
MAX_SPAN = timedelta(days=3660)

# How each aggregate reads raw values (`{c}` is the column) and rollup rows.
RAW_AGG = {
    "avg": "avg({c})",
    "min": "min({c})",
    "max": "max({c})",
    "sum": "sum({c})",
    "count": "count({c})",
    "last": "(array_agg({c} ORDER BY time DESC) FILTER (WHERE {c} IS NOT NULL))[1]",
}
ROLLUP_AGG = {
    "avg": "sum(sum) / nullif(sum(count), 0)",
    "min": "min(min)",
    "max": "max(max)",
    "sum": "sum(sum)",
    "count": "sum(count)",
    "last": "(array_agg(last ORDER BY last_time DESC))[1]",
}


# Hourly and daily rollups hold one row per bucket: read each row as it is, no grouping.
ROLLUP_ROW = {
    "avg": "sum / nullif(count, 0)",
    "min": "min",
    "max": "max",
    "sum": "sum",
    "count": "count",
    "last": "last",
}


@dataclass
class Series:
    kind: str
    asset_id: int
    asset_name: str
    metric: str
    unit: str
    points: list[tuple[str, float | None]] = field(default_factory=list)


class TooManyPoints(ValueError):
    pass


def choose_interval(start: datetime, end: datetime) -> str:
    span = end - start
    if span <= timedelta(hours=3):
        return "raw"
    if span <= timedelta(days=2):
        return "1m"
    if span <= timedelta(days=120):
        return "1h"
    return "1d"


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class Query:
    """A series' SQL, returning (moment, value) rows in time order."""

    sql: str
    params: list | dict


def _run(query: Query, tz: str, *, as_json: bool):
    """Run a series query with PostgreSQL writing the moments as ISO 8601 in `tz` (its JSON output
    of timestamptz follows the session's zone): either (time, value) rows, or the whole series as
    one JSON array built in PostgreSQL, which the API passes through as it is."""
    if as_json:
        sql = (
            "SELECT coalesce(json_agg(json_build_array(q.t, q.v) ORDER BY q.t), '[]')::text "
            f"FROM ({query.sql}) AS q(t, v)"
        )
    else:
        sql = f"SELECT to_json(q.t) #>> '{{}}', q.v FROM ({query.sql}) AS q(t, v) ORDER BY q.t"
    # JIT off: it would spend more compiling (100+ ms) than these index-driven queries take to run.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('TimeZone'), current_setting('jit'), "
            "set_config('TimeZone', %s, true), set_config('jit', 'off', true)",
            [tz],
        )
        previous_zone, previous_jit, _zone, _jit = cursor.fetchone()
        cursor.execute(sql, query.params)
        found = cursor.fetchone()[0] if as_json else cursor.fetchall()
        # A local setting lasts until the outermost transaction ends, not this savepoint: a caller's
        # later queries inside that transaction must get their timestamps in the connection's zone.
        cursor.execute(
            "SELECT set_config('TimeZone', %s, true), set_config('jit', %s, true)", [previous_zone, previous_jit]
        )
        return found


def _raw(kind, asset_id, metric, start, end) -> Query:
    return Query(
        f"SELECT time, {metric} FROM {READING_TABLES[kind]} WHERE asset_id = %s AND time >= %s AND time < %s "
        f"AND {metric} IS NOT NULL ORDER BY time LIMIT %s",
        [asset_id, start, end, MAX_RAW_POINTS + 1],
    )


def _count_raw(kind, asset_id, metric, start, end) -> int:
    rows = _fetch(
        f"SELECT count(*) FROM (SELECT 1 FROM {READING_TABLES[kind]} WHERE asset_id = %s AND time >= %s AND time < %s "
        f"AND {metric} IS NOT NULL LIMIT %s) AS capped",
        [asset_id, start, end, MAX_RAW_POINTS + 1],
    )
    return rows[0][0]


def _bucketed_raw(kind, asset_id, metric, agg, start, end, width: str, origin: datetime | None = None) -> Query:
    return Query(
        f"SELECT date_bin(%s::interval, time, %s) AS bucket, {RAW_AGG[agg].format(c=metric)} "
        f"FROM {READING_TABLES[kind]} WHERE asset_id = %s AND time >= %s AND time < %s GROUP BY bucket",
        [width, origin or start, asset_id, start, end],
    )


def _hourly(kind, asset_id, metric, agg, start, end) -> Query:
    """Hourly rollups, except the last two hours, computed from raw: rollups trail ingestion."""
    fresh_from = (timezone.now() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    rollups = Query(
        f"SELECT bucket, {ROLLUP_ROW[agg]} FROM telemetry_rollup WHERE kind = %s AND asset_id = %s "
        f"AND resolution = 'h' AND metric = %s AND bucket >= %s AND bucket < %s",
        [kind, asset_id, metric, start, min(end, fresh_from)],
    )
    if end <= fresh_from:
        return rollups
    fresh = _bucketed_raw(kind, asset_id, metric, agg, max(start, fresh_from), end, "1 hour", origin=fresh_from)
    return Query(f"{rollups.sql} UNION ALL {fresh.sql}", [*rollups.params, *fresh.params])


def _daily(kind, asset_id, metric, agg, start, end, tz: str) -> Query:
    """The local days of `tz` within [start, end): a whole day of the tenant's zone is its daily
    rollup row, any other day (another zone, or a day cut by the range) is composed from its hours,
    quarter-hours and, for a remainder shorter than a quarter-hour, raw readings (see rollups)."""
    tenant_zone = tz == tenant_time_zone()
    spans = [
        (asset_id, starts, max(starts, start), min(ends, end), tenant_zone and start <= starts and ends <= end)
        for starts, ends in rollups.local_days(start, end, tz)
    ]
    params = {"kind": kind, "metrics": [metric], **rollups.piece_arrays(spans)}
    return Query(f"SELECT x.day, {ROLLUP_AGG[agg]} FROM ({rollups.pieces_sql(kind)}) AS x GROUP BY x.day", params)


def series(
    *, assets: list[tuple[str, object]], metrics: list[str], start: datetime, end: datetime, interval: str,
    agg: str, tz: str, as_json: bool = False,
) -> tuple[str, list[Series]]:  # fmt: skip
    """The series of each (asset, metric) asked for. Returns the interval used and the series, whose
    points are (ISO 8601 time in `tz`, value) — or, with `as_json`, one JSON array text of such pairs.
    Metrics an asset's kind does not record are skipped; callers validate names beforehand."""
    if interval == "auto":
        interval = choose_interval(start, end)
    result = []
    for kind, asset in assets:
        for metric in metrics:
            definition = METRIC_BY_NAME[kind].get(metric)
            if definition is None or (interval != "raw" and metric not in ROLLUP_METRICS[kind]):
                continue
            if interval == "raw":
                if _count_raw(kind, asset.pk, metric, start, end) > MAX_RAW_POINTS:
                    raise TooManyPoints(
                        f"More than {MAX_RAW_POINTS} readings in this range: narrow it or ask for interval=1m, 1h "
                        f"or 1d."
                    )
                query = _raw(kind, asset.pk, metric, start, end)
            elif interval == "1m":
                query = _bucketed_raw(kind, asset.pk, metric, agg, start, end, "1 minute")
            elif interval == "1h":
                query = _hourly(kind, asset.pk, metric, agg, start, end)
            else:
                query = _daily(kind, asset.pk, metric, agg, start, end, tz)
            points = _run(query, tz, as_json=as_json)
            result.append(Series(kind, asset.pk, asset.name, metric, definition.unit, points))
    return interval, result


def latest(kind: str, asset_ids: list[int]) -> dict[int, dict]:
    """The last reading of each asset: {asset_id: {"time": …, "values": {…}}}."""
    table = READING_TABLES[kind]
    rows = _fetch(
        f"SELECT r.* FROM unnest(%s::bigint[]) AS a(id) "
        f"CROSS JOIN LATERAL (SELECT * FROM {table} WHERE asset_id = a.id ORDER BY time DESC LIMIT 1) r",
        [asset_ids],
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} LIMIT 0")
        names = [column.name for column in cursor.description]
    found = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        asset_id, moment = record.pop("asset_id"), record.pop("time")
        found[asset_id] = {"time": moment, "values": {k: v for k, v in record.items() if v is not None}}
    return found
