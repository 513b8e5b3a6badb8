"""Analysis 4 (Statistics) on hand-built sessions whose answers are computed by hand."""

from django_tenants.utils import schema_context

from tests.charging_data import charging_load, session, vehicle
from tests.charging_data import run_analysis as run

VEHICLES = [vehicle("AA:BB:CC", "Model A"), vehicle("DD:EE:FF:00:00:01", "Model B")]
NONE = {"energy": None, "mean_power": None, "max_power": None, "soc_start": None, "soc_end": None}
SESSIONS = [
    session("S1", pdc="PDC1", start="2026-03-02 10:00:00", minutes=30, energy=20, mean_power=40, max_power=60,
            soc_start=20, soc_end=80, v900=1, mac="AA:BB:CC:00:00:01"),
    session("S2", pdc="PDC1", start="2026-03-02 12:00:00", minutes=60, energy=30, mean_power=30, max_power=90,
            soc_start=10, soc_end=70, mac="AA:BB:CC:00:00:02"),
    # A failure at Fin de charge (step 0): its energy counts in the mean and maximum, its power and SOC do not.
    session("S3", pdc="PDC2", start="2026-03-03 09:00:00", minutes=45, outcome=1, ds=8192, step=0, energy=50,
            mean_power=100, max_power=200, soc_start=5, soc_end=95, mac=""),
    # A failure during the charge: only in the energy total.
    session("S4", pdc="PDC2", start="2026-03-03 11:00:00", outcome=1, ds=1234, step=8, energy=70,
            mac="DD:EE:FF:00:00:01"),
    # Ends before it starts: 0 minutes.
    session("S5", site="RENNES", start="2026-03-03 14:00:00", minutes=-10, energy=10, mean_power=20, max_power=30,
            soc_start=50, soc_end=60, v900=1, mac="11:22:33:44:55:66"),
    session("S6", site="RENNES", start="2026-03-03 15:00:00", minutes=90, energy=40, mean_power=50, max_power=100,
            soc_start=30, soc_end=90, mac="", vehicle="Unknown"),
    session("S8", site="RENNES", pdc="PDC2", start="2026-03-03 16:00:00", minutes=30, mac="", **NONE),
    session("OUT", start="2026-04-01 10:00:00", energy=999),
]  # fmt: skip


def test_statistics_energy_power_soc_duration_and_900v(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("statistics", period="month", d1="2026-03-01")
    assert {k: result[k] for k in (
        "total", "ok", "energy_total_kwh", "energy_mean_kwh", "energy_max_kwh", "mean_power_mean_kw",
        "mean_power_max_kw", "max_power_mean_kw", "max_power_max_kw", "soc_start_mean", "soc_end_mean",
        "soc_gain_mean", "duration_mean_min", "charges_900v", "charges_900v_pct",
    )} == {
        "total": 7, "ok": 5,
        "energy_total_kwh": 220.0,  # every session
        "energy_mean_kwh": 30.0, "energy_max_kwh": 50.0,  # S1, S2, S3 (Fin de charge), S5, S6
        "mean_power_mean_kw": 35.0, "mean_power_max_kw": 50.0,  # OK sessions only
        "max_power_mean_kw": 70.0, "max_power_max_kw": 100.0,
        "soc_start_mean": 27.5, "soc_end_mean": 75.0, "soc_gain_mean": 47.5,
        "duration_mean_min": 42.0,  # 30, 60, 0, 90, 30
        "charges_900v": 2, "charges_900v_pct": 28.57,
    }  # fmt: skip


def test_statistics_ok_charges_per_day_and_the_busiest_site_day(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("statistics", period="month", d1="2026-03-01")
    assert {k: result[k] for k in ("days", "ok_per_day_mean", "ok_per_day_median", "busiest_site", "busiest_day",
                                   "busiest_ok")} == {
        "days": 2, "ok_per_day_mean": 2.5, "ok_per_day_median": 2.5,  # 2 on the 2nd, 3 on the 3rd
        "busiest_site": "RENNES", "busiest_day": "2026-03-03", "busiest_ok": 3,
    }  # fmt: skip


def test_statistics_success_per_vehicle_leaves_unknown_vehicles_out(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    rows = run("statistics", period="month", d1="2026-03-01")["tables"]["vehicles"]["rows"]
    assert rows == [
        {"vehicle": "Model A", "total": 2, "ok": 2, "failed": 0, "ok_pct": 100.0, "failed_pct": 0.0},
        {"vehicle": "Model B", "total": 1, "ok": 0, "failed": 1, "ok_pct": 0.0, "failed_pct": 100.0},
    ]


def test_statistics_operating_hours_add_up_ok_durations(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    tables = run("statistics", period="month", d1="2026-03-01")["tables"]
    assert tables["site_hours"]["rows"] == [{"site": "RENNES", "hours": 2.0}, {"site": "CESSON", "hours": 1.5}]
    assert tables["point_hours"]["rows"] == [
        {"site": "CESSON", "charge_point": "PDC1", "hours": 1.5},
        {"site": "CESSON", "charge_point": "PDC2", "hours": 0.0},  # failures only
        {"site": "RENNES", "charge_point": "PDC1", "hours": 1.5},  # 0 (ends before it starts) + 1.5
        {"site": "RENNES", "charge_point": "PDC2", "hours": 0.5},
    ]


def test_statistics_ignore_the_error_type_and_moment_filters(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    everything = run("statistics", period="month", d1="2026-03-01")
    filtered = run("statistics", period="month", d1="2026-03-01", types="EVI", moments="Init")
    assert filtered == everything


def test_statistics_follow_the_site_filter(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("statistics", period="month", d1="2026-03-01", sites="rennes")
    assert (result["total"], result["energy_total_kwh"], result["busiest_site"]) == (3, 50.0, "RENNES")


def test_statistics_of_an_empty_period(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("statistics", period="month", d1="2026-01-01")
    assert (result["total"], result["energy_total_kwh"], result["energy_mean_kwh"], result["days"]) == (0, 0.0, None, 0)
    assert (result["busiest_site"], result["charges_900v_pct"]) == ("", 0.0)


def test_statistics_never_show_another_tenants_sessions(alpha, beta):
    with schema_context(beta.slug):
        charging_load(sessions=[session("B1", site="BETA-ONLY", start="2026-03-02 10:00:00", energy=500)])
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS, vehicles=VEHICLES)
        result = run("statistics", period="month", d1="2026-03-01")
    assert (result["total"], result["energy_total_kwh"]) == (7, 220.0)
    assert "BETA-ONLY" not in {r["site"] for r in result["tables"]["site_hours"]["rows"]}
