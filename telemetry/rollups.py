"""Hourly and daily rollups (min, max, sum, count, last per metric), and raw-data retention.

Ingestion marks each (asset, hour) it wrote to in `telemetry_dirty_hour`, in the same transaction
as the readings, so late and re-sent data is rolled up too. `compute_rollups` takes those marks,
recomputes the hours from the raw readings and then the days (the tenant's local days) from the
hours: a day's min, max, sum and count are exact aggregates of its hours, its average is sum/count.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from telemetry.metrics import READING_TABLES, ROLLUP_METRICS

AGGREGATES_SET = (
    "min = EXCLUDED.min, max = EXCLUDED.max, sum = EXCLUDED.sum, count = EXCLUDED.count, "
    "last = EXCLUDED.last, last_time = EXCLUDED.last_time"
)
ROLLUP_KEY = "(kind, asset_id, resolution, metric, bucket)"
BATCH = 5000


def _hourly_sql(kind: str) -> str:
    """One pass over each dirty run of raw rows (an index range scan on (asset, time)) computes every
    metric's aggregates per hour; the few aggregated rows are then unpivoted into one row per metric."""
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
    return f"""
        INSERT INTO telemetry_rollup (kind, asset_id, resolution, metric, bucket, min, max, sum, count, last, last_time)
        SELECT %(kind)s, run.asset_id, 'h', m.metric, g.bucket, m.lo, m.hi, m.total, m.n, m.last, g.last_time
        FROM unnest(%(run_assets)s::bigint[], %(run_starts)s::timestamptz[], %(run_ends)s::timestamptz[])
             AS run(asset_id, starts, ends)
        CROSS JOIN LATERAL (
          SELECT date_trunc('hour', time) AS bucket, max(time) AS last_time, {aggregates}
          FROM {READING_TABLES[kind]} WHERE asset_id = run.asset_id AND time >= run.starts AND time < run.ends
          GROUP BY 1
        ) g
        CROSS JOIN LATERAL (VALUES {unpivot}) AS m(metric, lo, hi, total, n, last)
        WHERE m.n > 0
        ON CONFLICT {ROLLUP_KEY} DO UPDATE SET {AGGREGATES_SET}
    """


def contiguous_runs(marks: list[tuple[int, datetime]]) -> tuple[list, list, list]:
    """Dirty (asset, hour) marks → runs of consecutive hours per asset: (assets, starts, ends)."""
    assets, starts, ends = [], [], []
    for asset_id, hour in sorted(marks):
        if assets and assets[-1] == asset_id and ends[-1] == hour:
            ends[-1] = hour + timedelta(hours=1)
        else:
            assets.append(asset_id)
            starts.append(hour)
            ends.append(hour + timedelta(hours=1))
    return assets, starts, ends


DAILY_SQL = f"""
    WITH days AS (
      SELECT DISTINCT asset_id, date_trunc('day', hour AT TIME ZONE %(tz)s) AS local_day
      FROM unnest(%(assets)s::bigint[], %(hours)s::timestamptz[]) AS d(asset_id, hour)
    ), spans AS (
      SELECT asset_id, local_day AT TIME ZONE %(tz)s AS starts,
             (local_day + interval '1 day') AT TIME ZONE %(tz)s AS ends
      FROM days
    )
    INSERT INTO telemetry_rollup (kind, asset_id, resolution, metric, bucket, min, max, sum, count, last, last_time)
    SELECT %(kind)s, s.asset_id, 'd', h.metric, s.starts, min(h.min), max(h.max), sum(h.sum), sum(h.count),
           (array_agg(h.last ORDER BY h.last_time DESC))[1], max(h.last_time)
    FROM spans s
    JOIN telemetry_rollup h ON h.kind = %(kind)s AND h.asset_id = s.asset_id AND h.resolution = 'h'
     AND h.bucket >= s.starts AND h.bucket < s.ends
    GROUP BY s.asset_id, s.starts, h.metric
    ON CONFLICT {ROLLUP_KEY} DO UPDATE SET {AGGREGATES_SET}
"""


def tenant_time_zone() -> str:
    """The current tenant's zone; inside `schema_context` the connection holds only a schema name."""
    from tenants.models import Client

    zone = getattr(getattr(connection, "tenant", None), "timezone", "")
    if not zone:
        zone = Client.objects.filter(schema_name=connection.schema_name).values_list("timezone", flat=True).first()
    return zone or "UTC"


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
                params = {
                    "kind": kind,
                    "run_assets": run_assets,
                    "run_starts": run_starts,
                    "run_ends": run_ends,
                    "assets": [asset_id for asset_id, _hour in kind_marks],
                    "hours": [hour for _asset_id, hour in kind_marks],
                    "tz": zone,
                }
                cursor.execute(_hourly_sql(kind), params)
                cursor.execute(DAILY_SQL, params)
        done += len(marks)
        if len(marks) < BATCH:
            return done


def apply_retention(now: datetime | None = None) -> int:
    """Delete raw readings older than the tenant's retention, and rollups older than the platform's.

    Deleting asset by asset walks the (asset, time) key from its start, so each run touches only
    the rows that aged out since the last one instead of scanning the table.
    """
    now = now or timezone.now()
    from tenants.models import Client

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
                    "DELETE FROM telemetry_rollup WHERE kind = %s AND asset_id = %s AND resolution IN ('h', 'd') "
                    "AND bucket < %s",
                    [kind, asset_id, rollup_cutoff],
                )
                deleted += cursor.rowcount
    return deleted
