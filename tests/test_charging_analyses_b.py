"""Analyses 0, 6, 7, 10, 11 and 12 on small hand-built data, loaded through the real import."""

import zoneinfo
from datetime import date, timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from charging import selectors
from charging.analyses import analysis
from charging.analyses.recurring_errors import detect
from charging.filters import parse_filters
from tests.charging_data import charging_load, fault, session


def filters_of(**params):
    return parse_filters(
        params,
        bounds=selectors.data_bounds(),
        site_ids_by_code=selectors.site_ids_by_code(),
        extra=("charge_points_only",),
    )


def run(name, **params):
    return analysis(name).run(filters_of(**params)).as_json()


PARIS = zoneinfo.ZoneInfo("Europe/Paris")  # the files source's time zone
MARCH = {"period": "month", "d1": "2026-03-01"}


def failure(id, start, *, pdc="PDC1", site="CESSON", ds=8192, evi=0, step=8, **fields):
    return session(id, start=start, pdc=pdc, site=site, outcome=1, ds=ds, evi=evi, step=step, **fields)


# --- 6. Multiple attempts ------------------------------------------------------------------------


def test_attempts_at_10_59_and_11_01_are_two_groups_of_one_not_a_group(tenant):
    charging_load(sessions=[session("A", start="2026-03-02 10:59:00"), session("B", start="2026-03-02 11:01:00")])
    result = run("multiple-attempts", **MARCH)
    assert (result["count"], result["sessions"], result["tables"]["groups"]["rows"]) == (0, 0, [])


def test_attempts_in_one_clock_hour_of_one_mac_make_a_group_ok_or_not(tenant):
    charging_load(sessions=[
        session("A", start="2026-03-02 10:05:00", pdc="PDC1", soc_start=10, soc_end=12, outcome=1, ds=8192, step=2),
        session("B", start="2026-03-02 10:20:00", pdc="PDC2", soc_start=11, soc_end=15, outcome=1, ds=8192, step=2),
        session("C", start="2026-03-02 10:45:00", pdc="PDC2", soc_start=12, soc_end=80),
        session("OTHER-MAC", start="2026-03-02 10:30:00", mac="AA:BB:CC:00:00:02"),
        session("NO-MAC-1", start="2026-03-02 10:31:00", mac=""),
        session("NO-MAC-2", start="2026-03-02 10:32:00", mac=""),
        session("OTHER-SITE", site="RENNES", start="2026-03-02 10:10:00"),
    ], vehicles=[{"MAC": "AA:BB:CC:00:00:01", "Vehicle": "Zoe"}])  # fmt: skip
    result = run("multiple-attempts", **MARCH)
    assert (result["count"], result["sessions"]) == (1, 3)
    assert result["tables"]["groups"]["rows"] == [{
        "site": "CESSON", "code": "cesson", "hour": "2026-03-02 10:00", "mac": "AA:BB:CC:00:00:01",
        "vehicle": "Zoe", "sessions": 3, "ok": 1, "failed": 2, "charge_points": "PDC1, PDC2",
        "first_attempt": "2026-03-02 10:05:00", "last_attempt": "2026-03-02 10:45:00", "session_ids": "A, B, C",
        "soc_start_min": 10.0, "soc_start_max": 12.0, "soc_end_min": 12.0, "soc_end_max": 80.0,
    }]  # fmt: skip


def test_attempt_groups_use_the_local_clock_hour(tenant):
    # 23:30 and 23:50 Paris time on 2026-03-02 are 22:30 and 22:50 UTC: one local hour, one group.
    charging_load(sessions=[session("A", start="2026-03-02 23:30:00"), session("B", start="2026-03-02 23:50:00")])
    result = run("multiple-attempts", **MARCH)
    assert [(r["hour"], r["session_ids"]) for r in result["tables"]["groups"]["rows"]] == [("2026-03-02 23:00", "A, B")]


def test_group_count_is_the_overview_figure(tenant):
    from charging.analyses.multiple_attempts import group_count

    charging_load(sessions=[
        session("A", start="2026-03-02 10:05:00"), session("B", start="2026-03-02 10:06:00"),
        session("C", start="2026-03-03 08:00:00"), session("D", start="2026-03-03 08:59:59"),
        session("E", start="2026-03-03 09:00:00"),
    ])  # fmt: skip
    assert group_count(filters_of(**MARCH)) == 2
    assert run("overview", **MARCH)["multiple_attempts"] == 2


# --- 7. Suspicious sessions ----------------------------------------------------------------------


def test_suspicious_is_reported_ok_and_below_1_kwh_only(tenant):
    charging_load(sessions=[
        session("OK-LOW", start="2026-03-02 10:00:00", energy=0.4, soc_start=50, soc_end=51, pdc="PDC2"),
        session("NULL-OUTCOME-LOW", start="2026-03-03 10:00:00", outcome=None, energy=0.99),
        session("OK-1KWH", energy=1.0),
        session("OK-NO-ENERGY", energy=None),
        session("FAILED-LOW", outcome=1, ds=8192, step=8, energy=0.1),
        session("UNKNOWN-FAILED-LOW", outcome=1, ds=0, evi=0, energy=0.1),
    ])  # fmt: skip
    result = run("suspicious", **MARCH)
    assert result["count"] == 2
    assert result["tables"]["sessions"]["rows"] == [
        {"id": "NULL-OUTCOME-LOW", "id_url": "https://elto.nidec-asi-online.com/Charge/detail?id=NULL-OUTCOME-LOW",
         "site": "CESSON", "code": "cesson", "charge_point": "PDC1", "start": "2026-03-03 10:00:00",
         "energy_kwh": 0.99, "soc": "20% → 80%", "mac": "AA:BB:CC:00:00:01", "vehicle": ""},
        {"id": "OK-LOW", "id_url": "https://elto.nidec-asi-online.com/Charge/detail?id=OK-LOW", "site": "CESSON",
         "code": "cesson", "charge_point": "PDC2", "start": "2026-03-02 10:00:00", "energy_kwh": 0.4,
         "soc": "50% → 51%", "mac": "AA:BB:CC:00:00:01", "vehicle": ""},
    ]  # fmt: skip


def test_suspicious_ignores_the_error_filters(tenant):
    """A failure filtered out counts as OK for the success rate, but it was not reported OK."""
    charging_load(sessions=[session("EVI-LOW", outcome=1, ds=8192, step=8, energy=0.1), session("OK", energy=0.2)])
    from charging.analyses.suspicious import count

    assert count(filters_of(**MARCH, types="DownStream")) == 1
    assert run("overview", **MARCH, types="DownStream")["suspicious"] == 1


# --- 10. Alerts (recurring errors) ---------------------------------------------------------------


def test_four_errors_within_12_hours_are_one_alert_of_four(tenant):
    charging_load(sessions=[
        failure("E1", "2026-03-02 08:00:00"), failure("E2", "2026-03-02 09:00:00"),
        failure("E3", "2026-03-02 15:00:00"), failure("E4", "2026-03-02 20:00:00"),  # t0 + 12 h, inclusive
    ])  # fmt: skip
    result = run("alerts", **MARCH)
    assert result["count"] == 1
    assert result["tables"]["alerts"]["rows"] == [{
        "site": "CESSON", "code": "cesson", "charge_point": "PDC1", "error_type": "EVI error", "moment": "Charge",
        "evi_code": 0, "downstream_code": 8192, "detection": "2026-03-02 08:00:00", "last": "2026-03-02 20:00:00",
        "occurrences": 4, "session_ids": "E1, E2, E3, E4",
    }]  # fmt: skip


def test_six_errors_spread_make_two_alerts_each_consuming_its_window(tenant):
    charging_load(sessions=[
        failure("E1", "2026-03-02 08:00:00"), failure("E2", "2026-03-02 10:00:00"),
        failure("E3", "2026-03-02 12:00:00"),
        failure("E4", "2026-03-02 20:01:00"),  # after E1's window: opens the next one
        failure("E5", "2026-03-03 01:00:00"), failure("E6", "2026-03-03 08:01:00"),
    ])  # fmt: skip
    alerts = detect(filters_of(**MARCH))
    assert [(a["detection_local"], a["last_local"], a["occurrences"], a["session_ids"]) for a in alerts] == [
        ("2026-03-02 20:01:00", "2026-03-03 08:01:00", 3, ["E4", "E5", "E6"]),
        ("2026-03-02 08:00:00", "2026-03-02 12:00:00", 3, ["E1", "E2", "E3"]),
    ]


def test_a_window_without_an_alert_consumes_nothing(tenant):
    """Reading: only an alert uses its errors up. E1's window holds E1, E2 (2: no alert); E2 then
    opens the next window, which holds E2, E3, E4."""
    charging_load(sessions=[
        failure("E1", "2026-03-02 00:00:00"), failure("E2", "2026-03-02 11:00:00"),
        failure("E3", "2026-03-02 13:00:00"), failure("E4", "2026-03-02 22:00:00"),
    ])  # fmt: skip
    alerts = detect(filters_of(**MARCH))
    assert [(a["detection_local"], a["occurrences"], a["session_ids"]) for a in alerts] == [
        ("2026-03-02 11:00:00", 3, ["E2", "E3", "E4"])
    ]


def test_alerts_group_by_charge_point_type_moment_and_codes(tenant):
    base = "2026-03-02 10:0{}:00"
    charging_load(sessions=[
        failure("P1", base.format(1)), failure("P2", base.format(2), pdc="PDC2"), failure("P3", base.format(3)),
        failure("M", base.format(4), step=2), failure("C", base.format(5), evi=7),
        failure("D", base.format(6), ds=1234), session("OK", start=base.format(7)),
    ])  # fmt: skip
    assert run("alerts", **MARCH)["count"] == 0
    charging_load(sessions=[failure("P4", "2026-03-02 11:00:00")])
    assert [a["session_ids"] for a in detect(filters_of(**MARCH))] == [["P1", "P3", "P4"]]


def test_alerts_count_only_failures_of_the_selected_sites_period_types_and_moments(tenant):
    charging_load(
        sessions=[*[failure(f"E{i}", f"2026-03-02 10:0{i}:00") for i in range(3)], session("R", site="RENNES")]
    )
    assert run("alerts", **MARCH, sites="rennes")["count"] == 0
    assert run("alerts", period="month", d1="2026-04-01")["count"] == 0
    assert run("alerts", **MARCH, types="DownStream")["count"] == 0
    assert run("alerts", **MARCH, moments="Avant charge")["count"] == 0
    assert run("alerts", **MARCH, types="EVI", moments="Charge")["count"] == 1


def test_unknown_errors_never_make_alerts(tenant):
    charging_load(sessions=[session(f"U{i}", start=f"2026-03-02 10:0{i}:00", outcome=1, ds=0) for i in range(3)])
    assert run("alerts", **MARCH)["count"] == 0


def test_alerts_per_site_table_and_overview_top_sites(tenant):
    charging_load(sessions=[
        *[failure(f"C{i}", f"2026-03-02 10:0{i}:00") for i in range(3)],
        *[failure(f"D{i}", f"2026-03-02 10:0{i}:00", pdc="PDC2") for i in range(3)],
        *[failure(f"R{i}", f"2026-03-02 10:0{i}:00", site="RENNES") for i in range(3)],
    ])  # fmt: skip
    result = run("alerts", **MARCH)
    assert result["tables"]["sites"]["rows"] == [{"site": "CESSON", "alerts": 2}, {"site": "RENNES", "alerts": 1}]
    overview = run("overview", **MARCH)
    assert (overview["alerts"], overview["alerts_level"]) == (3, "amber")
    assert overview["tables"]["alert_sites"]["rows"] == result["tables"]["sites"]["rows"]


# --- 11. Evolution -------------------------------------------------------------------------------


def _month_start(day: date, months_back: int) -> date:
    year, month = day.year, day.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def test_evolution_counts_end_of_charge_failures_ignores_filters_and_stops_at_the_last_complete_month(tenant):
    today = selectors.data_bounds().today
    two_back, last = _month_start(today, 2), _month_start(today, 1)
    at = "{} 10:00:00".format
    charging_load(sessions=[
        session("A1", start=at(two_back), site="RENNES"),
        session("A2", start=at(two_back), outcome=1, ds=8192, step=9),  # Fin de charge: counted
        session("A3", start=at(two_back), outcome=1, ds=8192, step=8),
        session("A4", start=at(two_back), outcome=1, ds=0, evi=0),  # Erreur_Unknow_S, moment Unknown
        session("B1", start=at(last), outcome=None),
        session("B2", start=at(last), outcome=1, ds=1234, step=0),  # Downstream at Fin de charge: counted
        session("B3", start=at(last), outcome=1, ds=1234, step=2),
        session("C1", start=at(today.replace(day=1)), outcome=1, ds=8192, step=8),  # this month: not shown
    ])  # fmt: skip
    expected = [
        {"month": two_back.strftime("%Y-%m"), "rate": 50.0, "sessions": 4},
        {"month": last.strftime("%Y-%m"), "rate": 66.67, "sessions": 3},
    ]
    result = run("evolution", period="day", d1=at(today)[:10], sites="rennes", types="DownStream", moments="Init")
    assert result["months"] == expected
    assert result["charts"][0]["kind"] == "line"
    assert result["charts"][0]["datasets"][0]["data"] == [50.0, 66.67]


# --- 12. Fault history ---------------------------------------------------------------------------


def test_faults_overlapping_the_period_and_their_bounds(tenant):
    charging_load(
        faults=[
            fault(1, start="2026-02-20 08:00:00", end="2026-03-01 00:00:00", label="Ended at the start"),
            fault(2, start="2026-02-20 08:00:00", end="2026-03-01 00:00:01", label="Ended just after", eqp="PDC2"),
            fault(3, start="2026-03-31 23:59:59", end="2026-04-02 00:00:00", label="Started at the end"),
            fault(4, start="2026-04-01 00:00:00", label="Started after"),
            fault(5, start="2026-02-01 00:00:00", label="Still active", eqp="Variateur HC1"),
            fault(6, site="RENNES", start="2026-03-10 08:00:00", end="2026-03-10 20:00:00", label="Other site"),
        ],
        sessions=[session("S")],
    )  # a site is offered by the filters once it has charge points
    result = run("faults", period="month", d1="2026-03-01", sites="cesson")
    assert {r["label"] for r in result["tables"]["faults"]["rows"]} == {
        "Ended just after",
        "Started at the end",
        "Still active",
    }
    assert (result["active"], result["resolved"], result["total"]) == (1, 2, 3)


def test_fault_rows_statuses_durations_and_tops(tenant):
    charging_load(faults=[
        fault(1, start="2026-03-02 08:00:00", end="2026-03-03 20:00:00", label="Isolement", eqp="PDC1"),
        fault(2, start="2026-03-05 08:00:00", end="2026-03-05 14:00:00", label="Isolement", eqp="PDC2"),
        fault(3, start="2026-03-06 00:00:00", end="2026-03-07 00:00:00", label="Surchauffe", eqp="PDC1"),
    ])  # fmt: skip
    result = run("faults", **MARCH)
    assert (result["active"], result["resolved"], result["total"], result["mean_duration_days"]) == (0, 3, 3, 0.92)
    assert result["tables"]["faults"]["rows"][0] == {
        "site": "CESSON", "code": "cesson", "equipment": "PDC1", "label": "Surchauffe",
        "start": "2026-03-06 00:00:00", "end": "2026-03-07 00:00:00", "duration_days": 1.0, "bit_position": 3,
        "field_name": "status_word", "status": "Resolved",
    }  # fmt: skip
    assert [r["duration_days"] for r in result["tables"]["faults"]["rows"]] == [1.0, 0.25, 1.5]
    assert result["tables"]["equipment"]["rows"] == [{"equipment": "PDC1", "faults": 2},
                                                     {"equipment": "PDC2", "faults": 1}]  # fmt: skip
    assert result["tables"]["labels"]["rows"] == [{"label": "Isolement", "faults": 2},
                                                  {"label": "Surchauffe", "faults": 1}]  # fmt: skip
    assert result["charts"][0]["datasets"][0]["data"] == [0, 3]


def test_a_fault_in_progress_lasts_until_now(tenant):
    start = timezone.localtime(timezone.now() - timedelta(days=2, hours=12), PARIS)
    charging_load(faults=[fault(1, start=start.strftime("%Y-%m-%d %H:%M:%S"))])
    result = run("faults", period="day", d1=start.date().isoformat())
    row = result["tables"]["faults"]["rows"][0]
    assert (row["status"], row["end"], row["duration_days"], result["active"]) == ("In progress", None, 2.5, 1)


# --- 0. Overview ---------------------------------------------------------------------------------


def _ago(**delta) -> str:
    return (timezone.localtime(timezone.now(), PARIS) - timedelta(**delta)).strftime("%Y-%m-%d %H:%M:%S")


def test_overview_active_faults_whatever_the_period_with_recent_and_old(tenant):
    charging_load(faults=[
        fault(1, start=_ago(hours=2), eqp="PDC1", label="Recent"),
        fault(2, start=_ago(days=8), eqp="Variateur HC1", label="Old"),
        fault(3, start=_ago(days=3), eqp="PDC2", label="Ended", end=_ago(days=1)),
        fault(4, site="RENNES", start=_ago(days=2), eqp="PDC1", label="Rennes"),
    ], sessions=[session("S"), session("R", site="RENNES")])  # fmt: skip
    result = run("overview", period="month", d1="2020-01-01", sites="cesson")
    assert (result["active_faults"], result["active_faults_level"]) == (2, "amber")
    assert [(r["label"], r["old"]) for r in result["tables"]["active_faults"]["rows"]] == [
        ("Recent", False),
        ("Old", True),
    ]
    assert result["tables"]["recent_fault_sites"]["rows"] == [{"site": "CESSON", "faults": 1}]
    only_points = run("overview", period="month", d1="2020-01-01", sites="cesson", charge_points_only="1")
    assert [r["label"] for r in only_points["tables"]["active_faults"]["rows"]] == ["Recent"]


def test_overview_active_faults_level_is_red_above_5(tenant):
    charging_load(faults=[fault(i, start=_ago(days=1, hours=i)) for i in range(6)])
    assert run("overview", **MARCH)["active_faults_level"] == "red"
    charging_load(faults=[fault(5, start=_ago(days=1, hours=5), end=_ago(hours=1))])
    assert (run("overview", **MARCH)["active_faults"], run("overview", **MARCH)["active_faults_level"]) == (5, "amber")


def test_overview_alerts_level_is_red_above_10(tenant):
    charging_load(sessions=[
        failure(f"E{p}-{i}", f"2026-03-02 10:0{i}:00", pdc=f"PDC{p}") for p in range(11) for i in range(3)
    ])  # fmt: skip
    assert (run("overview", **MARCH)["alerts"], run("overview", **MARCH)["alerts_level"]) == (11, "red")


def test_overview_busiest_sites_by_success_rate_and_top_failures(tenant):
    rows = []
    for index, (site, total, failed) in enumerate([("A", 4, 1), ("B", 3, 0), ("C", 2, 2)] + [
        (f"S{n:02d}", 1, 0) for n in range(9)
    ]):  # fmt: skip
        for n in range(total):
            rows.append(session(f"{site}-{n}", site=site, start=f"2026-03-02 1{n}:00:00",
                                **({"outcome": 1, "ds": 8192, "step": 8} if n < failed else {})))  # fmt: skip
    charging_load(sessions=rows)
    result = run("overview", **MARCH)
    busiest = result["tables"]["busiest_sites"]["rows"]
    assert len(busiest) == 10  # 12 sites: the ten with the most sessions (S07, S08 left out by name)
    assert [(r["site"], r["ok_pct"]) for r in busiest[:3]] == [("B", 100.0), ("S00", 100.0), ("S01", 100.0)]
    assert [(r["site"], r["total"], r["ok_pct"]) for r in busiest[-2:]] == [("A", 4, 75.0), ("C", 2, 0.0)]
    assert [(r["site"], r["failed"]) for r in result["tables"]["failure_sites"]["rows"]] == [("C", 2), ("A", 1)]


# --- Tenants -------------------------------------------------------------------------------------


def test_another_tenants_data_never_shows(alpha, beta):
    with schema_context(beta.slug):
        charging_load(
            sessions=[
                *[failure(f"B{i}", f"2026-03-02 10:0{i}:00", energy=0.1) for i in range(3)],
                session("BOK", energy=0.2),
                session("BOK2", energy=0.3, start="2026-03-02 10:30:00"),
            ],
            faults=[fault(1, start=_ago(hours=1))],
        )
    with schema_context(alpha.slug):
        charging_load(sessions=[session("A1", start="2026-03-05 10:00:00")])
        result = run("overview", **MARCH)
        assert (result["active_faults"], result["suspicious"], result["multiple_attempts"], result["alerts"]) == (
            0,
            0,
            0,
            0,
        )
        assert run("faults", **MARCH)["total"] == 0
        assert [m["sessions"] for m in run("evolution", **MARCH)["months"]] == [1]


def test_every_analysis_of_this_module_says_zero_on_no_data(tenant):
    assert {k: v for k, v in run("overview", **MARCH).items() if k not in ("tables", "charts", "notes")} == {
        "active_faults": 0, "active_faults_level": "green", "suspicious": 0, "multiple_attempts": 0, "alerts": 0,
        "alerts_level": "green",
    }  # fmt: skip
    assert (run("multiple-attempts", **MARCH)["count"], run("suspicious", **MARCH)["count"]) == (0, 0)
    assert (run("alerts", **MARCH)["count"], run("evolution", **MARCH)["months"]) == (0, [])
    assert (run("faults", **MARCH)["total"], run("faults", **MARCH)["mean_duration_days"]) == (0, None)


def test_every_answer_is_plain_json(tenant):
    import json

    charging_load(
        sessions=[
            *[failure(f"E{i}", f"2026-03-02 10:0{i}:00", energy=0.5) for i in range(3)],
            session("OK", start="2026-03-02 10:30:00", energy=0.2),
        ],
        faults=[fault(1, start="2026-03-01 08:00:00"), fault(2, start="2026-03-01 08:00", end="2026-03-02 08:00")],
    )
    for name in ("overview", "multiple-attempts", "suspicious", "alerts", "evolution", "faults"):
        result = run(name, **MARCH)
        assert json.loads(json.dumps(result)) == result, name
