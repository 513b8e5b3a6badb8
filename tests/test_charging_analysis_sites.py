"""Analysis 2 (Site comparison) on hand-built sessions whose answers are counted by hand."""

import pytest
from django_tenants.utils import schema_context

from charging.filters import InvalidFilter
from tests.charging_data import charging_load, session
from tests.charging_data import run_analysis as run

# CESSON starts: 07:00, 07:30 (a Downstream failure at Init), 12:00, 13:10, 20:00, 20:15, 20:45 (an EVI
# failure): hours {7: 2, 12: 1, 13: 1, 20: 3}. RENNES: 09:00 and 15:00.
MARCH = [
    session("C1", start="2026-03-02 07:00:00"),
    session("C2", start="2026-03-02 07:30:00", outcome=1, ds=1234, step=2),
    session("C3", start="2026-03-03 12:00:00"),
    session("C4", start="2026-03-03 13:10:00"),
    session("C5", start="2026-03-04 20:00:00"),
    session("C6", start="2026-03-04 20:15:00"),
    session("C7", start="2026-03-04 20:45:00", outcome=1, ds=8192, step=8),
    session("R1", site="RENNES", start="2026-03-05 09:00:00"),
    session("R2", site="RENNES", start="2026-03-05 15:00:00"),
]


def test_sites_per_site_counts_peak_hour_and_weighted_median_hour(tenant):
    charging_load(sessions=MARCH)
    result = run("sites", period="month", d1="2026-03-01")
    assert (result["sites"], result["total"], result["ok"], result["failed"]) == (2, 9, 7, 2)
    rows = result["tables"]["sites"]["rows"]
    # Busiest first. CESSON: 7 sessions, the 4th (half of 7 is 3.5) started at 13h: the weighted median hour.
    assert [(r["site"], r["code"], r["total"], r["ok"], r["failed"], r["ok_pct"], r["failed_pct"]) for r in rows] == [
        ("CESSON", "cesson", 7, 5, 2, 71.43, 28.57),
        ("RENNES", "rennes", 2, 2, 0, 100.0, 0.0),
    ]
    assert [(r["peak_hour"], r["peak_sessions"], r["median_hour"]) for r in rows] == [
        (20, 3, 13),
        (9, 1, 9),  # a tie: the earliest hour is the peak; half of 2 sessions have started by 09h
    ]


def test_sites_counts_a_failure_whose_type_is_not_selected_as_ok(tenant):
    charging_load(sessions=MARCH)
    result = run("sites", period="month", d1="2026-03-01", types="EVI")
    cesson = result["tables"]["sites"]["rows"][0]
    assert (cesson["total"], cesson["ok"], cesson["failed"], cesson["ok_pct"]) == (7, 6, 1, 85.71)


def test_sites_heatmap_has_one_row_per_site_and_the_24_hours(tenant):
    charging_load(sessions=MARCH)
    result = run("sites", period="month", d1="2026-03-01")
    heatmap = next(c for c in result["charts"] if c["key"] == "heatmap")
    assert heatmap["kind"] == "heatmap"
    assert heatmap["labels"] == list(range(24))
    assert heatmap["table"] == "heatmap"
    cesson = [0] * 24
    cesson[7], cesson[12], cesson[13], cesson[20] = 2, 1, 1, 3
    rennes = [0] * 24
    rennes[9] = rennes[15] = 1
    assert [(d["label"], d["data"]) for d in heatmap["datasets"]] == [("CESSON", cesson), ("RENNES", rennes)]
    table_row = result["tables"]["heatmap"]["rows"][0]
    assert [table_row[f"h{hour}"] for hour in range(24)] == cesson


ZOOM = [
    session("F1", start="2026-02-10 09:00:00", outcome=1, ds=0, evi=5, step=7),
    session("F2", start="2026-02-11 09:00:00"),
    session("M1", start="2026-03-02 09:00:00"),
    session("M2", start="2026-03-02 10:00:00", outcome=1, ds=8192, step=8),
    session("M3", start="2026-03-31 23:30:00"),
    session("R1", site="RENNES", start="2026-03-05 09:00:00"),
]


def test_sites_zoom_defaults_to_the_busiest_site_and_its_last_month(tenant):
    charging_load(sessions=ZOOM)
    result = run("sites", period="range", d1="2026-02-01", d2="2026-03-31")
    assert (result["site"], result["month"], result["month_options"]) == ("cesson", "2026-03", ["2026-02", "2026-03"])
    monthly = result["tables"]["monthly"]["rows"]
    assert monthly == [
        {"month": "2026-02", "total": 2, "ok": 1, "failed": 1, "ok_pct": 50.0, "failed_pct": 50.0},
        {"month": "2026-03", "total": 3, "ok": 2, "failed": 1, "ok_pct": 66.67, "failed_pct": 33.33},
    ]
    daily = result["tables"]["daily"]["rows"]
    assert len(daily) == 31  # every day of the month, sessions or not
    assert daily[1] == {"day": "2026-03-02", "total": 2, "ok": 1, "failed": 1, "ok_pct": 50.0, "failed_pct": 50.0}
    assert daily[0] == {"day": "2026-03-01", "total": 0, "ok": 0, "failed": 0, "ok_pct": 0.0, "failed_pct": 0.0}
    assert daily[30]["total"] == 1


def test_sites_zoom_on_the_chosen_site_and_month(tenant):
    charging_load(sessions=ZOOM)
    result = run("sites", period="range", d1="2026-02-01", d2="2026-03-31", site="rennes", month="2026-03")
    assert (result["site"], result["month"]) == ("rennes", "2026-03")
    assert [(r["month"], r["total"]) for r in result["tables"]["monthly"]["rows"]] == [("2026-03", 1)]
    days = {r["day"]: r["total"] for r in result["tables"]["daily"]["rows"] if r["total"]}
    assert days == {"2026-03-05": 1}


def test_sites_zoom_days_stay_inside_the_period(tenant):
    charging_load(sessions=ZOOM)
    result = run("sites", period="range", d1="2026-02-10", d2="2026-03-31", month="2026-02")
    days = result["tables"]["daily"]["rows"]
    assert (days[0]["day"], days[-1]["day"], len(days)) == ("2026-02-10", "2026-02-28", 19)


def test_sites_refuses_a_month_that_is_not_yyyy_mm(tenant):
    charging_load(sessions=ZOOM)
    with pytest.raises(InvalidFilter) as refused:
        run("sites", period="month", d1="2026-03-01", month="March")
    assert list(refused.value.fields) == ["month"]


def test_sites_never_shows_another_tenants_sessions(alpha, beta):
    with schema_context(beta.slug):
        charging_load(sessions=[session("B1", site="BETA-ONLY", start="2026-03-02 10:00:00")])
    with schema_context(alpha.slug):
        charging_load(sessions=MARCH)
        result = run("sites", period="month", d1="2026-03-01")
    assert [r["site"] for r in result["tables"]["sites"]["rows"]] == ["CESSON", "RENNES"]
    assert result["total"] == 9
