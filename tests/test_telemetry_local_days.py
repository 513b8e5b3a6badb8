"""Daily series are local days: for zones whose offset is not a whole hour, and for DST days."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_battery
from tests.test_telemetry_series import ingest, roll_up, series

# (zone, first local day, local days): three days each, across a DST change where the zone has one.
ZONES = [
    ("Asia/Kolkata", date(2026, 10, 1), 3),  # +5:30
    ("Asia/Kathmandu", date(2026, 10, 1), 3),  # +5:45
    ("America/St_Johns", date(2026, 10, 31), 3),  # −2:30, then −3:30 from 1 November (a 25-hour day)
    ("Australia/Adelaide", date(2026, 10, 3), 3),  # +9:30, then +10:30 from 4 October (a 23-hour day)
    ("Asia/Tehran", date(2026, 10, 1), 3),  # +3:30
    ("Europe/Paris", date(2026, 3, 28), 3),  # 29 March: 23 hours
    ("Europe/Paris", date(2026, 10, 24), 3),  # 25 October: 25 hours
    ("America/Havana", date(2026, 10, 31), 3),  # 1 November: local 00:00–01:00 happens twice
]
AGGREGATES = ("count", "sum", "min", "max", "avg", "last")


@pytest.fixture
def battery(alpha):
    return make_battery(alpha)


@pytest.fixture
def tenant_zone(alpha):
    """Give alpha another time zone for one test."""
    original = alpha.tenant.timezone

    def set_zone(zone: str) -> None:
        alpha.tenant.timezone = zone
        alpha.tenant.save(update_fields=["timezone"])

    yield set_zone
    set_zone(original)


def midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone))


def readings_across(zone: str, first_day: date, days: int, every_minutes: int):
    """Readings every few minutes from half a day before the first local day to half a day after
    the last one, with values whose sums are exact in floating point."""
    start = midnight(first_day, zone).astimezone(UTC) - timedelta(hours=12)
    end = midnight(first_day + timedelta(days=days), zone).astimezone(UTC) + timedelta(hours=12)
    points, moment, i = [], start, 0
    while moment < end:
        points.append((moment, {"voltage": 48 + (i * 7 % 17) * 0.25}))
        moment += timedelta(minutes=every_minutes)
        i += 1
    return points


def expected_days(points, zone: str, first_day: date, days: int) -> dict[str, list]:
    """What each aggregate gives per local day, grouping the readings by their local date."""
    by_day: dict[date, list[float]] = {}
    for moment, values in points:
        by_day.setdefault(moment.astimezone(ZoneInfo(zone)).date(), []).append(values["voltage"])
    wanted = [first_day + timedelta(days=n) for n in range(days)]
    compute = {
        "count": len,
        "sum": sum,
        "min": min,
        "max": max,
        "avg": lambda values: sum(values) / len(values),
        "last": lambda values: values[-1],
    }
    return {agg: [[midnight(day, zone).isoformat(), compute[agg](by_day[day])] for day in wanted] for agg in AGGREGATES}


def daily_series(world, battery, zone, first_day, days, **extra) -> dict[str, list]:
    found = {}
    for agg in AGGREGATES:
        response = series(
            world, assets=f"battery:{battery.pk}", metrics="voltage", interval="1d", agg=agg,
            start=midnight(first_day, zone).isoformat(),
            end=midnight(first_day + timedelta(days=days), zone).isoformat(),
            **extra,
        )  # fmt: skip
        assert response.status_code == 200, response.content
        found[agg] = response.json()["series"][0]["points"]
    return found


@pytest.mark.parametrize(("zone", "first_day", "days"), ZONES)
def test_daily_points_are_the_tenants_local_days(alpha, battery, tenant_zone, zone, first_day, days):
    tenant_zone(zone)
    points = readings_across(zone, first_day, days, every_minutes=7)
    ingest(alpha, battery, points)
    roll_up(alpha)
    assert daily_series(alpha, battery, zone, first_day, days) == expected_days(points, zone, first_day, days)


@pytest.mark.parametrize(("zone", "first_day", "days"), ZONES)
def test_daily_points_are_the_local_days_of_the_zone_asked_for(alpha, battery, tenant_zone, zone, first_day, days):
    tenant_zone("UTC")
    points = readings_across(zone, first_day, days, every_minutes=7)
    ingest(alpha, battery, points)
    roll_up(alpha)
    found = daily_series(alpha, battery, zone, first_day, days, tz=zone)
    assert found == expected_days(points, zone, first_day, days)


@pytest.mark.parametrize(("zone", "first_day", "counts"), [
    ("Europe/Paris", date(2026, 3, 28), [288, 276, 288]),
    ("Europe/Paris", date(2026, 10, 24), [288, 300, 288]),
    ("Asia/Kolkata", date(2026, 10, 1), [288, 288, 288]),
    ("Australia/Adelaide", date(2026, 10, 3), [288, 276, 288]),
    ("America/St_Johns", date(2026, 10, 31), [288, 300, 288]),
])  # fmt: skip
def test_a_day_holds_the_readings_of_its_23_24_or_25_hours(alpha, battery, tenant_zone, zone, first_day, counts):
    tenant_zone(zone)
    ingest(alpha, battery, readings_across(zone, first_day, 3, every_minutes=5))
    roll_up(alpha)
    found = daily_series(alpha, battery, zone, first_day, 3)["count"]
    assert [value for _day, value in found] == counts
    assert found == daily_series(alpha, battery, zone, first_day, 3, tz=zone)["count"]


def test_a_late_reading_after_local_midnight_counts_in_its_own_day(alpha, battery, tenant_zone):
    # In Kolkata, 00:10 on 2 October is 18:40 UTC on 1 October: its UTC hour starts on the 1st, local time.
    tenant_zone("Asia/Kolkata")
    points = readings_across("Asia/Kolkata", date(2026, 10, 1), 2, every_minutes=5)
    ingest(alpha, battery, [p for p in points if p[0].minute % 10 == 0])
    roll_up(alpha)
    before = daily_series(alpha, battery, "Asia/Kolkata", date(2026, 10, 1), 2)["count"]
    late = datetime(2026, 10, 2, 0, 12, tzinfo=ZoneInfo("Asia/Kolkata"))
    ingest(alpha, battery, [(late, {"voltage": 50.0})])
    roll_up(alpha)
    after = daily_series(alpha, battery, "Asia/Kolkata", date(2026, 10, 1), 2)["count"]
    assert [value for _day, value in before] == [144, 144]
    assert [value for _day, value in after] == [144, 145]


def test_a_day_cut_by_the_range_counts_only_the_readings_inside_it(alpha, battery, tenant_zone):
    tenant_zone("Asia/Kolkata")
    ingest(alpha, battery, readings_across("Asia/Kolkata", date(2026, 10, 1), 2, every_minutes=5))
    roll_up(alpha)
    response = series(
        alpha, assets=f"battery:{battery.pk}", metrics="voltage", interval="1d", agg="count",
        start="2026-10-01T06:07:00+05:30", end="2026-10-03T00:00:00+05:30",
    )  # fmt: skip
    # From 06:07 to midnight: 17 h 53 min of readings every 5 minutes, the first at 06:10.
    assert response.json()["series"][0]["points"] == [
        ["2026-10-01T00:00:00+05:30", 214],
        ["2026-10-02T00:00:00+05:30", 288],
    ]
