"""Quarter-hour, hourly and daily rollups (min, max, sum, count, last per metric), and raw-data retention.

Ingestion marks each (asset, hour) it wrote to in `telemetry_dirty_hour`, in the same transaction
as the readings, so late and re-sent data is rolled up too. `compute_rollups` takes those marks,
recomputes their quarter-hours from the raw readings, their hours from the quarter-hours, and then
the tenant's local days that those hours touch.

Why quarter-hours: a local day starts at local midnight, which in Asia/Kolkata (+5:30), Asia/Tehran
(+3:30), Asia/Kathmandu (+5:45), America/St_Johns (−3:30), Australia/Adelaide (+9:30/+10:30) or
Australia/Eucla (+8:45) is not a whole UTC hour. Since 2000 (the oldest reading ingestion accepts)
every IANA zone's offset, and so every local midnight and DST change, falls on a whole UTC quarter-hour.
A local day, for the tenant's zone or any `tz=` a series asks for, is therefore composed exactly
from a few rollup rows (`day_pieces`): the whole UTC hours inside it, the quarter-hours at its edges,
and — only for an edge that is not even a quarter-hour (zones' local mean time before 1900, or a
requested range that starts mid-quarter) — the raw readings of that edge. Each day's min, max, sum,
count and last are then exact aggregates of its pieces, and its average is sum / count.
That keeps the cost low where it matters: a tenant-zone day is rebuilt from ≤ 24 + 8 rows per metric
instead of its ~1,440 raw readings at every minute's run, an hourly series still reads one row per
hour, and a year of daily points in any zone reads ≤ 3 index probes per day. Whole-hour rollups
alone cannot do it (a Kolkata day would be 23 or 24 hours shifted by 30 min); days grouped from raw
readings would be exact but rescan every reading of the day each minute, and would lose the day
once its raw readings age out while late data still arrives.

Day boundaries come from Python's zoneinfo (`local_days`): the first instant of a local date is
its midnight, or — when DST starts at midnight (America/Havana, America/Santiago, Asia/Beirut) —
the moment the clocks jump; with an ambiguous midnight (fall-back at midnight), the first of the two.
The daily rows and the series that read them use this one definition.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from telemetry.metrics import READING_TABLES, ROLLUP_METRICS
from tenants.models import Client

AGGREGATES_SET = (
    "min = EXCLUDED.min, max = EXCLUDED.max, sum = EXCLUDED.sum, count = EXCLUDED.count, "
    "last = EXCLUDED.last, last_time = EXCLUDED.last_time"
)
ROLLUP_KEY = "(kind, asset_id, resolution, metric, bucket)"
ROLLUP_COLUMNS = "(kind, asset_id, resolution, metric, bucket, min, max, sum, count, last, last_time)"
BATCH = 5000
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)
# Buckets are aligned on UTC: date_bin with this origin does not depend on the session's TimeZone.
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
RAW = "raw"  # a day piece read from the raw readings, not from a rollup resolution


def _raw_aggregates(kind: str) -> tuple[str, str]:
    """Every metric's aggregates over a set of raw rows, and the VALUES list that unpivots the
    aggregated row `g` into one (metric, min, max, sum, count, last) row per metric."""
    metrics = ROLLUP_METRICS[kind]
    aggregates = ", ".join(
        f"min({m}) AS {m}_min, max({m}) AS {m}_max, sum({m}) AS {m}_sum, count({m}) AS {m}_count, "
        f"(array_agg({m} ORDER BY time DESC) FILTER (WHERE {m} IS NOT NULL))[1] AS {m}_last"
        for m in metrics
    )
    unpivot = ", ".join(
        f"('{m}', g.{m}_min::float8, g.{m}_max::float8, g.{m}_sum::float8, g.{m}_count, g.{m}_last::float8)"
        for m in metrics
    )
    return aggregates, unpivot


def _quarter_sql(kind: str) -> str:
    """One pass over each dirty run of raw rows (an index range scan on (asset, time)) computes every
    metric's aggregates per quarter-hour; the few aggregated rows are then unpivoted into one row per metric."""
    aggregates, unpivot = _raw_aggregates(kind)
    return f"""
        INSERT INTO telemetry_rollup {ROLLUP_COLUMNS}
        SELECT %(kind)s, run.asset_id, 'q', m.metric, g.bucket, m.lo, m.hi, m.total, m.n, m.last, g.last_time
        FROM unnest(%(run_assets)s::bigint[], %(run_starts)s::timestamptz[], %(run_ends)s::timestamptz[])
             AS run(asset_id, starts, ends)
        CROSS JOIN LATERAL (
          SELECT date_bin('15 minutes', time, %(origin)s) AS bucket, max(time) AS last_time, {aggregates}
          FROM {READING_TABLES[kind]} WHERE asset_id = run.asset_id AND time >= run.starts AND time < run.ends
          GROUP BY 1
        ) g
        CROSS JOIN LATERAL (VALUES {unpivot}) AS m(metric, lo, hi, total, n, last)
        WHERE m.n > 0
        ON CONFLICT {ROLLUP_KEY} DO UPDATE SET {AGGREGATES_SET}
    """


HOURLY_SQL = f"""
    INSERT INTO telemetry_rollup {ROLLUP_COLUMNS}
    SELECT %(kind)s, run.asset_id, 'h', q.metric, date_bin('1 hour', q.bucket, %(origin)s), min(q.min), max(q.max),
           sum(q.sum), sum(q.count), (array_agg(q.last ORDER BY q.last_time DESC))[1], max(q.last_time)
    FROM unnest(%(run_assets)s::bigint[], %(run_starts)s::timestamptz[], %(run_ends)s::timestamptz[])
         AS run(asset_id, starts, ends)
    CROSS JOIN unnest(%(metrics)s::text[]) AS wanted(metric)
    JOIN telemetry_rollup q ON q.kind = %(kind)s AND q.asset_id = run.asset_id AND q.resolution = 'q'
     AND q.metric = wanted.metric AND q.bucket >= run.starts AND q.bucket < run.ends
    GROUP BY run.asset_id, q.metric, 5
    ON CONFLICT {ROLLUP_KEY} DO UPDATE SET {AGGREGATES_SET}
"""


def pieces_sql(kind: str) -> str:
    """The rollup rows (and, for pieces of resolution `raw`, the raw aggregates) of the pieces given
    as arrays %(p_assets)s, %(p_res)s, %(p_from)s, %(p_to)s, for the metrics %(metrics)s, each with
    its day: the last of the sorted day starts %(days)s at or before it (a piece may span days).
    Rows: (asset_id, day, metric, min, max, sum, count, last, last_time), to be grouped by day."""
    aggregates, unpivot = _raw_aggregates(kind)
    day_of = "(%(days)s::timestamptz[])[width_bucket({moment}, %(days)s::timestamptz[])]"
    return f"""
        WITH piece AS (
          SELECT * FROM unnest(%(p_assets)s::bigint[], %(p_res)s::text[], %(p_from)s::timestamptz[],
                               %(p_to)s::timestamptz[]) AS p(asset_id, res, lo, hi)
        )
        SELECT p.asset_id, {day_of.format(moment="r.bucket")} AS day, r.metric, r.min, r.max, r.sum, r.count, r.last,
               r.last_time
        FROM piece p
        CROSS JOIN unnest(%(metrics)s::text[]) AS wanted(metric)
        -- One index range scan per piece and metric: OFFSET 0 keeps the planner from flattening this
        -- into a hash or merge join over every rollup row of the kind, which it guesses cheaper.
        CROSS JOIN LATERAL (
          SELECT bucket, metric, min, max, sum, count, last, last_time FROM telemetry_rollup
          WHERE kind = %(kind)s AND asset_id = p.asset_id AND resolution = p.res AND metric = wanted.metric
            AND bucket >= p.lo AND bucket < p.hi OFFSET 0
        ) r
        WHERE p.res <> '{RAW}'
        UNION ALL
        SELECT p.asset_id, g.day, m.metric, m.lo, m.hi, m.total, m.n, m.last, g.last_time
        FROM piece p
        CROSS JOIN LATERAL (
          SELECT {day_of.format(moment="time")} AS day, max(time) AS last_time, {aggregates}
          FROM {READING_TABLES[kind]}
          WHERE p.res = '{RAW}' AND asset_id = p.asset_id AND time >= p.lo AND time < p.hi
          GROUP BY 1
        ) g
        CROSS JOIN LATERAL (VALUES {unpivot}) AS m(metric, lo, hi, total, n, last)
        WHERE p.res = '{RAW}' AND m.n > 0 AND m.metric = ANY(%(metrics)s::text[])
    """


# Before the dirty hours are recomputed, their rows go: a metric that a replaced reading no longer
# carries (`on_conflict=update` clears what the new reading lacks) must not keep its old aggregates,
# and the upserts only write the (bucket, metric) pairs that still have values.
CLEAR_HOURS_SQL = """
    DELETE FROM telemetry_rollup r
    USING unnest(%(run_assets)s::bigint[], %(run_starts)s::timestamptz[], %(run_ends)s::timestamptz[])
          AS run(asset_id, starts, ends)
    WHERE r.kind = %(kind)s AND r.asset_id = run.asset_id AND r.resolution IN ('q', 'h')
      AND r.bucket >= run.starts AND r.bucket < run.ends
"""
CLEAR_DAYS_SQL = """
    DELETE FROM telemetry_rollup r
    USING unnest(%(day_assets)s::bigint[], %(day_starts)s::timestamptz[]) AS day(asset_id, starts)
    WHERE r.kind = %(kind)s AND r.asset_id = day.asset_id AND r.resolution = 'd' AND r.bucket = day.starts
"""


def _daily_sql(kind: str) -> str:
    return f"""
        INSERT INTO telemetry_rollup {ROLLUP_COLUMNS}
        SELECT %(kind)s, x.asset_id, 'd', x.metric, x.day, min(x.min), max(x.max), sum(x.sum), sum(x.count),
               (array_agg(x.last ORDER BY x.last_time DESC))[1], max(x.last_time)
        FROM ({pieces_sql(kind)}) AS x
        GROUP BY x.asset_id, x.day, x.metric
        ON CONFLICT {ROLLUP_KEY} DO UPDATE SET {AGGREGATES_SET}
    """


def _floor(moment: datetime, width: timedelta) -> datetime:
    return moment - (moment - ORIGIN) % width


def _ceil(moment: datetime, width: timedelta) -> datetime:
    floor = _floor(moment, width)
    return floor if floor == moment else floor + width


def day_pieces(starts: datetime, ends: datetime) -> list[tuple[str, datetime, datetime]]:
    """[starts, ends) as (resolution, from, to) pieces: whole UTC hours ('h') in the middle,
    whole quarter-hours ('q') at the edges, raw readings for what is left of a quarter-hour."""
    q_from, q_to = _ceil(starts, QUARTER), _floor(ends, QUARTER)
    if q_from >= q_to:
        return [(RAW, starts, ends)]
    h_from, h_to = _ceil(starts, HOUR), _floor(ends, HOUR)
    if h_from >= h_to:
        h_from = h_to = q_to
    pieces = [(RAW, starts, q_from), ("q", q_from, h_from), ("h", h_from, h_to), ("q", h_to, q_to), (RAW, q_to, ends)]
    return [piece for piece in pieces if piece[1] < piece[2]]


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date: `fold=0` gives the first of two ambiguous midnights, and
    for a midnight that DST skips, the moment the clocks jump."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def local_days(start: datetime, end: datetime, zone_name: str) -> list[tuple[datetime, datetime]]:
    """The (start, end) instants of each local day in `zone_name` that overlaps [start, end)."""
    zone = ZoneInfo(zone_name)
    day = start.astimezone(zone).date()
    days = []
    starts = day_start(day, zone)
    while starts < end:
        day += timedelta(days=1)
        ends = day_start(day, zone)
        if starts < ends:  # a day a zone skipped (Pacific/Apia, 2011-12-30) has no instant
            days.append((starts, ends))
        starts = ends
    return days


def tenant_time_zone() -> str:
    """The current tenant's zone; inside `schema_context` the connection holds only a schema name."""

    zone = getattr(getattr(connection, "tenant", None), "timezone", "")
    if not zone:
        zone = Client.objects.filter(schema_name=connection.schema_name).values_list("timezone", flat=True).first()
    return zone or "UTC"


def contiguous_runs(marks: list[tuple[int, datetime]]) -> tuple[list, list, list]:
    """Dirty (asset, hour) marks → runs of consecutive hours per asset: (assets, starts, ends)."""
    assets, starts, ends = [], [], []
    for asset_id, hour in sorted(marks):
        if assets and assets[-1] == asset_id and ends[-1] == hour:
            ends[-1] = hour + HOUR
        else:
            assets.append(asset_id)
            starts.append(hour)
            ends.append(hour + HOUR)
    return assets, starts, ends


# (asset, the day's first instant, from, to, read the day's own rollup row)
DaySpan = tuple[int, datetime, datetime, datetime, bool]


def piece_arrays(spans: list[DaySpan]) -> dict[str, list]:
    """Days, as (asset, the day's first instant, from, to, read the day's own row), in order → the
    parameters of `pieces_sql`. Pieces that touch are merged: a run of whole days is one range of
    daily rows, whole-hour days one range of hours, and the quarter-hours on either side of a
    midnight one range, so a year of days costs a few index scans per day at most, not one per piece."""
    params: dict[str, list] = {"days": [], "p_assets": [], "p_res": [], "p_from": [], "p_to": []}
    for asset_id, day, lo, hi, whole_day in spans:
        params["days"].append(day)
        for resolution, piece_from, piece_to in [("d", lo, hi)] if whole_day else day_pieces(lo, hi):
            touching = params["p_assets"] and params["p_to"][-1] == piece_from
            if touching and (params["p_assets"][-1], params["p_res"][-1]) == (asset_id, resolution):
                params["p_to"][-1] = piece_to
                continue
            params["p_assets"].append(asset_id)
            params["p_res"].append(resolution)
            params["p_from"].append(piece_from)
            params["p_to"].append(piece_to)
    params["days"] = sorted(set(params["days"]))
    return params


def dirty_days(
    marks: list[tuple[int, datetime]], zone_name: str
) -> list[tuple[int, datetime, datetime, datetime, bool]]:
    """The tenant's local days each dirty hour overlaps: where the zone's offset is not a whole hour,
    an hour lies across two days."""
    zone = ZoneInfo(zone_name)
    days = set()
    for asset_id, hour in marks:
        for moment in (hour, hour + HOUR - timedelta(microseconds=1)):
            day = moment.astimezone(zone).date()
            days.add((asset_id, day_start(day, zone), day_start(day + timedelta(days=1), zone)))
    return [(asset_id, starts, starts, ends, False) for asset_id, starts, ends in sorted(days) if starts < ends]


def compute_rollups() -> int:
    """Roll up every hour marked dirty in the current tenant. Returns the number of hours done."""
    done = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM telemetry_dirty_hour WHERE (kind, asset_id, hour) IN ("
                " SELECT kind, asset_id, hour FROM telemetry_dirty_hour LIMIT %s FOR UPDATE SKIP LOCKED"
                ") RETURNING kind, asset_id, hour",
                [BATCH],
            )
            marks = cursor.fetchall()
            by_kind: dict[str, list] = {}
            for kind, asset_id, hour in marks:
                by_kind.setdefault(kind, []).append((asset_id, hour))
            zone = tenant_time_zone() if marks else "UTC"
            for kind, kind_marks in by_kind.items():
                run_assets, run_starts, run_ends = contiguous_runs(kind_marks)
                days = dirty_days(kind_marks, zone)
                params = {
                    "kind": kind,
                    "origin": ORIGIN,
                    "metrics": ROLLUP_METRICS[kind],
                    "run_assets": run_assets,
                    "run_starts": run_starts,
                    "run_ends": run_ends,
                    "day_assets": [day[0] for day in days],
                    "day_starts": [day[1] for day in days],
                    **piece_arrays(days),
                }
                cursor.execute(CLEAR_HOURS_SQL, params)
                cursor.execute(CLEAR_DAYS_SQL, params)
                cursor.execute(_quarter_sql(kind), params)
                cursor.execute(HOURLY_SQL, params)
                cursor.execute(_daily_sql(kind), params)
        done += len(marks)
        if len(marks) < BATCH:
            return done


def apply_retention(now: datetime | None = None) -> int:
    """Delete raw readings older than the tenant's retention, and rollups older than the platform's.

    Deleting asset by asset walks the (asset, time) key from its start, so each run touches only
    the rows that aged out since the last one instead of scanning the table.
    """
    now = now or timezone.now()

    own_days = Client.objects.filter(schema_name=connection.schema_name).values_list("raw_retention_days", flat=True)
    raw_days = own_days.first() or settings.TELEMETRY_RAW_RETENTION_DAYS
    raw_cutoff = now - timedelta(days=raw_days)
    rollup_cutoff = now - timedelta(days=max(settings.TELEMETRY_ROLLUP_RETENTION_DAYS, raw_days))
    deleted = 0
    with connection.cursor() as cursor:
        for kind, table in READING_TABLES.items():
            cursor.execute(f"SELECT id FROM telemetry_{kind}")
            for (asset_id,) in cursor.fetchall():
                cursor.execute(f"DELETE FROM {table} WHERE asset_id = %s AND time < %s", [asset_id, raw_cutoff])
                deleted += cursor.rowcount
                cursor.execute(
                    "DELETE FROM telemetry_rollup WHERE kind = %s AND asset_id = %s AND resolution IN ('q', 'h', 'd') "
                    "AND bucket < %s",
                    [kind, asset_id, rollup_cutoff],
                )
                deleted += cursor.rowcount
    return deleted
