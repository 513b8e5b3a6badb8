"""One battery, one year of hourly averages, over a 10-million-row readings table.

Fills the table with 19 batteries × one year of one-minute readings (≈ 10 M rows, generated inside
PostgreSQL), rolls them up, then times `GET /api/v1/telemetry/series` (interval=1h, one metric,
one year) through uvicorn. For scale it also times the same hourly series computed from the raw
rows, which is what a year-long chart would cost without rollups.
Then it times the year as daily points, in the tenant's zone (its daily rollups) and in
Asia/Kolkata (days composed from hourly and quarter-hour rollups).
Target: p95 <= 50 ms.
    .venv/bin/python bench/bench_telemetry_series.py [--requests 60] [--assets 19] [--database NAME]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ["VOLTWATCH_ENV"] = "test"
os.environ["DEBUG"] = "0"

from bench.setup import percentile, recreate_database, settle_database, start_server  # noqa: E402

DATABASE = "voltwatch_bench_series"
HOST = "benchseries.localhost"
ASSETS = 19
YEAR_START = "2025-01-01T00:00:00Z"
YEAR_END = "2026-01-01T00:00:00Z"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--assets", type=int, default=ASSETS, help="batteries in the readings table")
    parser.add_argument("--database", default=DATABASE)
    options = parser.parse_args()

    recreate_database(options.database)
    import django

    django.setup()
    import httpx
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts.services import create_api_key
    from provisioning.services import create_client
    from sites.models import Site
    from telemetry import rollups
    from telemetry.models import AssetType, Battery

    call_command("migrate_schemas", interactive=False, verbosity=0)
    client = create_client(
        name="Bench Series", slug="benchseries", admin_email="a@b.test", admin_password="x" * 12
    ).client
    client.timezone = "UTC"
    client.api_rate = "1000000/min"
    client.save(update_fields=["timezone", "api_rate"])
    with schema_context("benchseries"):
        _key, token = create_api_key(name="bench", scopes=["read"])
        site = Site.objects.create(name="Bench", code="bench")
        kind = AssetType.objects.create(name="Rack", kind="battery")
        batteries = Battery.objects.bulk_create(
            Battery(site=site, type=kind, name=f"B{n}", serial=f"S-{n:03d}") for n in range(options.assets)
        )
        ids = [b.pk for b in batteries]
        target = ids[options.assets // 2]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO telemetry_battery_reading (asset_id, time, voltage, current, soc, temperature)
                SELECT a, t, 48 + 4 * sin(extract(epoch FROM t) / 7200 + a), 20 * cos(extract(epoch FROM t) / 3600),
                       50 + 40 * sin(extract(epoch FROM t) / 43200), 25 + a %% 5
                FROM unnest(%s::bigint[]) AS a,
                     generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute', interval '1 minute') AS t
                """,
                [ids, YEAR_START, YEAR_END],
            )
            rows = cursor.rowcount
            filled = time.perf_counter() - started
            cursor.execute(
                "INSERT INTO telemetry_dirty_hour (kind, asset_id, hour) SELECT 'battery', %s, h "
                "FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') AS h",
                [target, YEAR_START, YEAR_END],
            )
        started = time.perf_counter()
        hours = rollups.compute_rollups()
        rolled = time.perf_counter() - started
        raw_times = []
        for _ in range(3):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT date_trunc('hour', time), avg(voltage) FROM telemetry_battery_reading "
                    "WHERE asset_id = %s AND time >= %s AND time < %s GROUP BY 1 ORDER BY 1",
                    [target, YEAR_START, YEAR_END],
                )
                cursor.fetchall()
            raw_times.append(time.perf_counter() - started)
    settle_database()

    server, port = start_server(workers=2)
    latencies, points = [], 0
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Host": HOST, "Authorization": f"Api-Key {token}"}
        ) as http:
            params = {"assets": f"battery:{target}", "metrics": "voltage", "start": YEAR_START, "end": YEAR_END,
                      "interval": "1h", "agg": "avg"}  # fmt: skip
            for _ in range(5):
                http.get("/api/v1/telemetry/series", params=params).raise_for_status()
            for _ in range(options.requests):
                started = time.perf_counter()
                response = http.get("/api/v1/telemetry/series", params=params)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
                points = len(response.json()["series"][0]["points"])
            daily = {}
            for zone in ("UTC", "Asia/Kolkata"):
                day_params = {**params, "interval": "1d", "tz": zone}
                for _ in range(3):
                    http.get("/api/v1/telemetry/series", params=day_params).raise_for_status()
                day_latencies = []
                for _ in range(max(10, options.requests // 3)):
                    started = time.perf_counter()
                    http.get("/api/v1/telemetry/series", params=day_params).raise_for_status()
                    day_latencies.append((time.perf_counter() - started) * 1000)
                daily[zone] = day_latencies
    finally:
        server.terminate()
        server.wait(15)

    ms = [value * 1000 for value in latencies]
    print()
    print(f"Readings table: {rows:,} rows ({options.assets} batteries × one year at 1/min), filled in {filled:.0f} s")
    print(f"Hourly + daily rollups of one battery's year ({hours:,} hours): {rolled:.1f} s")
    print(
        f"GET /api/v1/telemetry/series, 1 battery, 1 year, 1h avg ({points:,} points) through uvicorn: "
        f"p50 {statistics.median(ms):.1f} ms  p95 {percentile(ms, 0.95):.1f} ms  ({len(ms)} requests)"
    )
    print(
        f"Same series aggregated from the raw rows instead: {statistics.median(raw_times) * 1000:.0f} ms (median of 3)"
    )
    for zone, day_ms in daily.items():
        print(
            f"Same year as 1d avg in {zone} ({'tenant zone: daily rollups' if zone == 'UTC' else 'composed days'}): "
            f"p50 {statistics.median(day_ms):.1f} ms  p95 {percentile(day_ms, 0.95):.1f} ms  ({len(day_ms)} requests)"
        )
    print("Target: p95 <= 50 ms.")


if __name__ == "__main__":
    main()
