"""Rollups, the series API, latest values and retention."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from telemetry import rollups
from tests.factories import make_battery

T0 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


def ingest(world, battery, points):
    """points: [(time, values)], sent in batches as a gateway would."""
    body = [{"asset": battery.serial, "time": t.isoformat(), "values": v} for t, v in points]
    for start in range(0, len(body), 5000):
        response = world.api().post(
            "/api/v1/telemetry/readings", {"readings": body[start : start + 5000]}, content_type="application/json"
        )
        assert response.status_code == 201, response.content


def roll_up(world):
    with schema_context(world.slug):
        done = rollups.compute_rollups()
    connection.set_schema_to_public()
    return done


def sql(world, query, params=()):
    with schema_context(world.slug), connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    connection.set_schema_to_public()
    return rows


@pytest.fixture
def battery(alpha):
    return make_battery(alpha)


@pytest.fixture
def three_days(alpha, battery):
    generator = random.Random(4)
    points = [
        (
            T0 + timedelta(minutes=5 * i),
            {"voltage": round(48 + generator.random() * 6, 3), "soc": generator.randint(5, 99)},
        )
        for i in range(3 * 24 * 12)
    ]
    ingest(alpha, battery, points)
    roll_up(alpha)
    return points


def test_hourly_rollups_equal_a_direct_computation_on_the_raw_rows(alpha, battery, three_days):
    direct = sql(
        alpha,
        "SELECT date_trunc('hour', time), min(voltage), max(voltage), sum(voltage), count(voltage), "
        "(array_agg(voltage ORDER BY time DESC))[1] FROM telemetry_battery_reading WHERE asset_id = %s "
        "GROUP BY 1 ORDER BY 1",
        [battery.pk],
    )
    rolled = sql(
        alpha,
        "SELECT bucket, min, max, sum, count, last FROM telemetry_rollup WHERE kind = 'battery' AND asset_id = %s "
        "AND resolution = 'h' AND metric = 'voltage' ORDER BY bucket",
        [battery.pk],
    )
    assert len(rolled) == 72
    assert [(r[0], r[1], r[2], r[4], r[5]) for r in rolled] == [(d[0], d[1], d[2], d[4], d[5]) for d in direct]
    assert all(r[3] == pytest.approx(d[3]) for r, d in zip(rolled, direct, strict=True))


def test_daily_rollups_follow_the_tenants_local_days(alpha, battery, three_days):
    # Alpha's time zone is Europe/Paris: a local day starts at 22:00 or 23:00 UTC.
    direct = sql(
        alpha,
        "SELECT date_trunc('day', time AT TIME ZONE 'Europe/Paris'), min(soc), max(soc), avg(soc), count(soc) "
        "FROM telemetry_battery_reading WHERE asset_id = %s GROUP BY 1 ORDER BY 1",
        [battery.pk],
    )
    rolled = sql(
        alpha,
        "SELECT bucket AT TIME ZONE 'Europe/Paris', min, max, sum / count, count FROM telemetry_rollup "
        "WHERE kind = 'battery' AND asset_id = %s AND resolution = 'd' AND metric = 'soc' ORDER BY bucket",
        [battery.pk],
    )
    assert [(r[0], r[1], r[2], r[4]) for r in rolled] == [(d[0], d[1], d[2], d[4]) for d in direct]
    assert all(r[3] == pytest.approx(float(d[3])) for r, d in zip(rolled, direct, strict=True))


def test_late_readings_update_the_rollups_of_their_hour(alpha, battery, three_days):
    ingest(alpha, battery, [(T0 + timedelta(minutes=2), {"voltage": 99.0})])
    assert roll_up(alpha) == 1
    [(maximum, count)] = sql(
        alpha,
        "SELECT max, count FROM telemetry_rollup WHERE asset_id = %s AND resolution = 'h' AND metric = 'voltage' "
        "AND bucket = %s",
        [battery.pk, T0],
    )
    assert (maximum, count) == (99.0, 13)


def series(world, **params):
    return world.api(world.read_token).get("/api/v1/telemetry/series", params)


def test_the_series_api_reads_hourly_rollups_for_a_month(alpha, battery, three_days):
    response = series(
        alpha, assets=f"battery:{battery.pk}", metrics="voltage", start="2026-10-01T00:00:00Z",
        end="2026-10-31T00:00:00Z", agg="max",
    )  # fmt: skip
    body = response.json()
    assert response.status_code == 200
    assert body["interval"] == "1h" and body["tz"] == "Europe/Paris"
    [voltage] = body["series"]
    assert len(voltage["points"]) == 72
    first_hour = [v["voltage"] for t, v in three_days[:12]]
    assert voltage["points"][0] == ["2026-10-01T02:00:00+02:00", max(first_hour)]


def test_the_series_api_returns_raw_readings_for_a_short_range_by_serial(alpha, battery, three_days):
    body = series(
        alpha, assets=f"battery:{battery.serial}", metrics="soc", start="2026-10-01T00:00:00Z",
        end="2026-10-01T01:00:00Z", tz="UTC",
    ).json()  # fmt: skip
    assert body["interval"] == "raw"
    assert [p[1] for p in body["series"][0]["points"]] == [v["soc"] for _t, v in three_days[:12]]


def test_daily_averages_in_another_time_zone_come_from_the_hours(alpha, battery, three_days):
    body = series(
        alpha, assets=f"battery:{battery.pk}", metrics="soc", start="2026-10-01T00:00:00Z",
        end="2026-10-04T00:00:00Z", interval="1d", agg="count", tz="UTC",
    ).json()  # fmt: skip
    assert [p for p in body["series"][0]["points"]] == [
        ["2026-10-01T00:00:00+00:00", 288],
        ["2026-10-02T00:00:00+00:00", 288],
        ["2026-10-03T00:00:00+00:00", 288],
    ]


def test_a_series_in_another_zone_leaves_the_moments_read_after_it_in_utc(alpha, battery):
    # Inside one transaction (a test, a task), the zone a series writes its moments in must not stick.
    ingest(alpha, battery, [(T0, {"voltage": 50.0})])
    series(alpha, assets=f"battery:{battery.pk}", metrics="voltage", start=T0.isoformat(), tz="Asia/Kolkata")
    [(moment,)] = sql(alpha, "SELECT time FROM telemetry_battery_reading WHERE asset_id = %s", [battery.pk])
    assert moment == T0 and moment.utcoffset() == timedelta(0)


def test_one_minute_buckets_aggregate_the_raw_readings(alpha, battery):
    ingest(alpha, battery, [(T0 + timedelta(seconds=10 * i), {"voltage": float(i)}) for i in range(12)])
    body = series(
        alpha, assets=f"battery:{battery.pk}", metrics="voltage", start=T0.isoformat(),
        end=(T0 + timedelta(minutes=2)).isoformat(), interval="1m", agg="avg", tz="UTC",
    ).json()  # fmt: skip
    assert body["series"][0]["points"] == [["2026-10-01T00:00:00+00:00", 2.5], ["2026-10-01T00:01:00+00:00", 8.5]]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"assets": ""}, {"assets": "Name at least one asset, e.g. assets=battery:12,meter:3."}),
        ({"assets": "battery:999999"}, {"assets": "No battery “999999” here."}),
        ({"assets": "pump:1"}, {"assets": "“pump:1”: write kind:id, with kind battery or meter."}),
        ({"metrics": "volts"}, {"metrics": "Unknown metric(s): volts."}),
        ({"interval": "5m"}, {"interval": "One of: raw, 1m, 1h, 1d, auto."}),
        ({"agg": "median"}, {"agg": "One of: avg, min, max, sum, count, last."}),
        ({"tz": "Mars/Olympus"}, {"tz": "Give an IANA time zone such as Europe/Paris or America/Montreal."}),
        ({"start": "2026-10-02T00:00:00Z", "end": "2026-10-01T00:00:00Z"}, {"start": "Must come before end."}),
        ({"start": "soon"}, {"start": "Give unix seconds, milliseconds or an ISO 8601 date-time."}),
    ],
)
def test_bad_series_parameters_are_named(alpha, battery, params, fields):
    params = {"assets": f"battery:{battery.pk}", **params}
    response = series(alpha, **params)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "detail": "Fix the parameters named below and ask again.",
        "fields": fields,
    }


def test_another_tenants_asset_is_unknown_to_the_series_api(alpha, beta):
    theirs = make_battery(beta)
    response = series(alpha, assets=f"battery:{theirs.pk}")
    assert response.status_code == 400


def test_latest_gives_each_assets_last_reading(alpha, battery, three_days):
    body = alpha.api(alpha.read_token).get("/api/v1/telemetry/latest", {"assets": f"battery:{battery.pk}"}).json()
    last_time, last_values = three_days[-1]
    assert body[0]["time"] == last_time.isoformat().replace("+00:00", "Z") or body[0]["time"] == last_time.isoformat()
    assert body[0]["values"]["voltage"] == last_values["voltage"]


def test_retention_drops_old_raw_readings_and_keeps_their_rollups(alpha, battery, three_days, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 10
    with schema_context(alpha.slug):
        rollups.apply_retention(now=T0 + timedelta(days=12))
    connection.set_schema_to_public()
    [(raw_left,)] = sql(alpha, "SELECT count(*) FROM telemetry_battery_reading WHERE asset_id = %s", [battery.pk])
    [(hours_left,)] = sql(
        alpha, "SELECT count(DISTINCT bucket) FROM telemetry_rollup WHERE asset_id = %s AND resolution = 'h'",
        [battery.pk],
    )  # fmt: skip
    assert raw_left == 288  # the third day only
    assert hours_left == 72


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_series_exports_as_csv_excel_and_pdf(alpha, battery, three_days, fmt):
    response = alpha.api(alpha.read_token).get(
        f"/api/v1/telemetry/series/export/{fmt}",
        {"assets": f"battery:{battery.pk}", "metrics": "voltage,soc", "start": "2026-10-01T00:00:00Z",
         "end": "2026-10-02T00:00:00Z", "interval": "1h"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content) if fmt == "csv" else response.content
    if fmt == "csv":
        lines = body.decode().splitlines()
        assert len(lines) == 25 and "voltage" in lines[0]
    elif fmt == "xlsx":
        assert body[:2] == b"PK"
    else:
        assert body[:4] == b"%PDF"


def test_an_asset_that_stops_reporting_raises_a_silent_alert_and_it_resolves_when_readings_return(alpha, battery):
    from datetime import UTC, datetime

    from alerts.models import Alert, Status
    from telemetry.services import detect_silent_assets

    quiet_since = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    ingest(alpha, battery, [(quiet_since, {"soc": 50})])
    with schema_context(alpha.slug):
        assert detect_silent_assets(now=quiet_since + timedelta(minutes=10)) == 0
        assert detect_silent_assets(now=quiet_since + timedelta(minutes=20)) == 1
        alert = Alert.objects.get(source_id=battery.serial, type="silent")
        assert alert.status == Status.FIRING and "20 minutes" in alert.message
    connection.set_schema_to_public()

    ingest(alpha, battery, [(quiet_since + timedelta(minutes=21), {"soc": 49})])
    with schema_context(alpha.slug):
        detect_silent_assets(now=quiet_since + timedelta(minutes=22))
        alert.refresh_from_db()
        assert alert.status == Status.RESOLVED
    connection.set_schema_to_public()


def test_a_tenants_own_retention_replaces_the_platform_default(alpha, battery, three_days, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 400
    alpha.tenant.raw_retention_days = 11
    alpha.tenant.save(update_fields=["raw_retention_days"])
    try:
        with schema_context(alpha.slug):
            rollups.apply_retention(now=T0 + timedelta(days=13))
        connection.set_schema_to_public()
        [(raw_left,)] = sql(alpha, "SELECT count(*) FROM telemetry_battery_reading WHERE asset_id = %s", [battery.pk])
        assert raw_left == 288  # the third day only
    finally:
        alpha.tenant.raw_retention_days = None
        alpha.tenant.save(update_fields=["raw_retention_days"])


def test_the_beat_task_rolls_up_every_tenant(alpha, battery):
    from config.celery import app
    from tenants.tasks import for_each_tenant

    ingest(alpha, battery, [(T0, {"voltage": 50.0}), (T0 + timedelta(minutes=1), {"voltage": 52.0})])
    for_each_tenant.apply(args=app.conf.beat_schedule["telemetry-rollups"]["args"])  # eager: one task per tenant
    [(average,)] = sql(
        alpha,
        "SELECT sum / count FROM telemetry_rollup WHERE asset_id = %s AND resolution = 'h' AND metric = 'voltage'",
        [battery.pk],
    )
    assert average == 51.0
