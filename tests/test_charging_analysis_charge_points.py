"""Analysis 3 (Charge-point details) on hand-built sessions whose answers are counted by hand."""

from django_tenants.utils import schema_context

from charging.analyses import charge_points
from tests.charging_data import charging_load, session
from tests.charging_data import run_analysis as run

SESSIONS = [
    session("A1", pdc="PDC1", start="2026-03-02 10:00:00"),
    session("A2", pdc="PDC1", start="2026-03-03 10:00:00", outcome=1, ds=8192, evi=12, step=8),  # EVI, Charge
    session("A3", pdc="PDC1", start="2026-03-04 10:00:00", outcome=1, ds=1234, step=7),  # Downstream, CableCheck
    session(
        "A4", pdc="PDC1", start="2026-03-05 10:00:00", outcome=1, ds=0, evi=7, step=3, soc_start=35.4, soc_end=None
    ),
    session("B1", pdc="PDC2", start="2026-03-02 11:00:00"),
    session("B2", pdc="PDC2", start="2026-03-06 11:00:00", outcome=1, ds=1234, step=8),  # Downstream, Charge
    session("B3", pdc="PDC2", start="2026-03-07 11:00:00", outcome=1, ds=0, evi=0),  # Erreur_Unknow_S: never "failed"
    session("B4", pdc="PDC2", start="2026-03-08 11:00:00", outcome=1, ds=8192, evi=12, step=-1),  # EVI, Fin de charge
    session("R1", site="RENNES", start="2026-03-02 10:00:00", outcome=1, ds=4321, step=8),
    session("ANG", site="ANGERS", start="2026-02-02 10:00:00"),  # first by name, but no session in March
]


def test_charge_points_default_to_the_first_site_by_name_with_sessions(tenant):
    charging_load(sessions=SESSIONS)
    result = run("charge-points", period="month", d1="2026-03-01")
    assert (result["site"], result["site_name"]) == ("cesson", "CESSON")
    assert result["site_options"] == [{"code": "cesson", "site": "CESSON"}, {"code": "rennes", "site": "RENNES"}]
    assert (result["total"], result["ok"], result["failed"], result["success_pct"]) == (8, 3, 5, 37.5)


def test_charge_points_success_rate_per_charge_point_worst_first(tenant):
    charging_load(sessions=SESSIONS)
    rows = run("charge-points", period="month", d1="2026-03-01")["tables"]["charge_points"]["rows"]
    assert rows == [
        {"charge_point": "PDC1", "total": 4, "ok": 1, "failed": 3, "ok_pct": 25.0},
        {"charge_point": "PDC2", "total": 4, "ok": 2, "failed": 2, "ok_pct": 50.0},
    ]


def test_charge_points_failed_sessions_newest_first_with_their_console_link(tenant):
    charging_load(sessions=SESSIONS)
    rows = run("charge-points", period="month", d1="2026-03-01")["tables"]["failed_sessions"]["rows"]
    assert [r["id"] for r in rows] == ["B4", "B2", "A4", "A3", "A2"]
    b4 = rows[0]
    assert (b4["start"], b4["charge_point"], b4["error"], b4["soc"], b4["mac"], b4["id_url"]) == (
        "2026-03-08 11:00:00",  # the source's local time
        "PDC2",
        "Erreur_EVI — Fin de charge",  # step -1
        "20% → 80%",
        "AA:BB:CC:00:00:01",
        "https://elto.nidec-asi-online.com/Charge/detail?id=B4",
    )
    a4 = rows[2]
    assert (a4["error"], a4["soc"]) == ("Erreur_EVI — Fin de charge", "")  # step 3; SOC end missing


def test_charge_points_show_a_summer_start_in_the_sources_local_time(tenant):
    charging_load(sessions=[session("JUL", start="2026-07-01 10:15:00", outcome=1, ds=8192, step=8)])
    rows = run("charge-points", period="month", d1="2026-07-01")["tables"]["failed_sessions"]["rows"]
    assert [(r["id"], r["start"]) for r in rows] == [("JUL", "2026-07-01 10:15:00")]


def test_charge_points_list_a_failure_whose_type_is_not_selected_with_the_ok_sessions(tenant):
    charging_load(sessions=SESSIONS)
    result = run("charge-points", period="month", d1="2026-03-01", types="EVI")
    assert [r["id"] for r in result["tables"]["failed_sessions"]["rows"]] == ["B4", "A4", "A2"]
    ok = result["tables"]["ok_sessions"]["rows"]
    assert [r["id"] for r in ok] == ["B3", "B2", "A3", "B1", "A1"]
    assert [(r["status"], r["error"]) for r in ok[:2]] == [
        ("OK", "Erreur_Unknow_S — Unknown"),
        ("OK", "Erreur_DownStream — Charge"),
    ]


def test_charge_points_list_the_newest_sessions_only_and_say_how_many_there_are(tenant, monkeypatch):
    monkeypatch.setattr(charge_points, "ROW_LIMIT", 2)
    charging_load(sessions=SESSIONS)
    result = run("charge-points", period="month", d1="2026-03-01")
    assert [r["id"] for r in result["tables"]["failed_sessions"]["rows"]] == ["B4", "B2"]
    assert (result["failed"], result["failed_listed"], result["row_limit"]) == (5, 2, 2)
    assert "The newest 2 of 5 sessions." in result["notes"]


def test_charge_points_evi_errors_by_moment(tenant):
    charging_load(sessions=SESSIONS)
    result = run("charge-points", period="month", d1="2026-03-01")
    assert result["tables"]["evi_moments"]["rows"] == [
        {"moment": "Charge", "key": "Charge", "failed": 1, "pct": 33.33},
        {"moment": "End of charge", "key": "Fin de charge", "failed": 2, "pct": 66.67},
    ]


def test_charge_points_downstream_codes_by_moment_leave_out_codes_0_and_8192(tenant):
    charging_load(sessions=SESSIONS)
    table = run("charge-points", period="month", d1="2026-03-01")["tables"]["downstream_codes"]
    assert table["columns"] == ["rank", "code", "CableCheck", "Charge", "total", "pct"]
    assert table["rows"] == [
        {"rank": 1, "code": 1234, "CableCheck": 1, "Charge": 1, "total": 2, "pct": 100.0},
        {"rank": None, "code": "Total", "CableCheck": 1, "Charge": 1, "total": 2, "pct": 100.0},
    ]


def test_charge_points_evi_codes_by_moment_include_downstream_8192(tenant):
    charging_load(sessions=SESSIONS)
    table = run("charge-points", period="month", d1="2026-03-01")["tables"]["evi_codes"]
    assert table["rows"] == [
        {"rank": 1, "code": 12, "Charge": 1, "Fin de charge": 1, "total": 2, "pct": 66.67},
        {"rank": 2, "code": 7, "Charge": 0, "Fin de charge": 1, "total": 1, "pct": 33.33},
        {"rank": None, "code": "Total", "Charge": 1, "Fin de charge": 2, "total": 3, "pct": 100.0},
    ]


def test_charge_points_evi_code_reported_by_the_evi_or_through_downstream_8192_is_one_code(tenant):
    charging_load(sessions=[
        session("V1", outcome=1, ds=8192, evi=12, step=8),
        session("V2", outcome=1, ds=0, evi=12, step=8),
    ])  # fmt: skip
    rows = run("charge-points", period="month", d1="2026-03-01")["tables"]["evi_codes"]["rows"]
    assert rows[0] == {"rank": 1, "code": 12, "Charge": 2, "total": 2, "pct": 100.0}


def test_charge_points_of_the_chosen_site(tenant):
    charging_load(sessions=SESSIONS)
    result = run("charge-points", period="month", d1="2026-03-01", site="rennes")
    assert (result["site"], result["total"], result["failed"]) == ("rennes", 1, 1)
    assert [r["id"] for r in result["tables"]["failed_sessions"]["rows"]] == ["R1"]


def test_charge_points_never_show_another_tenants_sessions(alpha, beta):
    with schema_context(beta.slug):
        charging_load(
            sessions=[session("BETA1", site="AAA-BETA", start="2026-03-02 10:00:00", outcome=1, ds=99, step=8)]
        )
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS)
        result = run("charge-points", period="month", d1="2026-03-01")
        other = run("charge-points", period="month", d1="2026-03-01", site="aaa-beta")
    assert [o["code"] for o in result["site_options"]] == ["cesson", "rennes"]
    assert other["site"] == "cesson"  # another tenant's site is not one to choose: the default is used
    assert "BETA1" not in {r["id"] for r in other["tables"]["failed_sessions"]["rows"]}
