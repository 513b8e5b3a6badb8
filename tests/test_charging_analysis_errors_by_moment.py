"""Analysis 8 (Errors by moment) on hand-built failures whose ranking is counted by hand."""

from django_tenants.utils import schema_context

from tests.charging_data import charging_load, session
from tests.charging_data import run_analysis as run

SESSIONS = [
    *[session(f"E{i}", outcome=1, ds=8192, evi=12, step=8) for i in (1, 2, 3)],  # DS 8192: EVI code 12 at Charge
    *[session(f"E{i}", site="RENNES", outcome=1, ds=0, evi=12, step=8) for i in (4, 5)],
    session("E6", outcome=1, ds=0, evi=5, step=3),  # Fin de charge, step 3
    session("E7", outcome=1, ds=0, evi=5, step=-1),  # Fin de charge, step -1: another key
    session("D1", outcome=1, ds=1234, step=7),
    session("D2", outcome=1, ds=1234, step=7),
    session("D3", site="RENNES", outcome=1, ds=99, step=1),
    session("U1", outcome=1, ds=0, evi=0),  # Erreur_Unknow_S: never counted as failed
    session("O1"),
    session("O2"),
    session("O3", site="RENNES"),
]


def key(row):
    return (row["moment_key"], row["step"], row["code"], row["type"], row["count"], row["pct"])


def test_errors_by_moment_top_3_overall_keyed_by_moment_step_code_and_type(tenant):
    charging_load(sessions=SESSIONS)
    result = run("errors-by-moment", period="month", d1="2026-03-01")
    assert (result["total"], result["failed"], result["failed_evi"], result["failed_downstream"]) == (14, 10, 7, 3)
    assert [key(r) for r in result["tables"]["top_all"]["rows"]] == [
        ("Charge", 8, 12, "Erreur_EVI", 5, 50.0),
        ("CableCheck", 7, 1234, "Erreur_DownStream", 2, 20.0),
        ("Init", 1, 99, "Erreur_DownStream", 1, 10.0),  # of the ties, the earliest moment
    ]


def test_errors_by_moment_top_errors_per_site(tenant):
    charging_load(sessions=SESSIONS)
    rows = run("errors-by-moment", period="month", d1="2026-03-01")["tables"]["top_all_sites"]["rows"]
    assert [(r["rank"], r["site"], r["count"], r["pct"]) for r in rows] == [
        (1, "CESSON", 3, 60.0),
        (1, "RENNES", 2, 40.0),
        (2, "CESSON", 2, 100.0),
        (3, "RENNES", 1, 100.0),
    ]


def test_errors_by_moment_top_evi_and_top_downstream(tenant):
    charging_load(sessions=SESSIONS)
    tables = run("errors-by-moment", period="month", d1="2026-03-01")["tables"]
    assert [key(r) for r in tables["top_evi"]["rows"]] == [
        ("Charge", 8, 12, "Erreur_EVI", 5, 71.43),
        ("Fin de charge", -1, 5, "Erreur_EVI", 1, 14.29),
        ("Fin de charge", 3, 5, "Erreur_EVI", 1, 14.29),
    ]
    assert [key(r) for r in tables["top_downstream"]["rows"]] == [
        ("CableCheck", 7, 1234, "Erreur_DownStream", 2, 66.67),
        ("Init", 1, 99, "Erreur_DownStream", 1, 33.33),
    ]


def test_errors_by_moment_code_by_moment_tables(tenant):
    charging_load(sessions=SESSIONS)
    tables = run("errors-by-moment", period="month", d1="2026-03-01")["tables"]
    assert tables["evi_codes"]["rows"][:2] == [
        {"rank": 1, "code": 12, "Charge": 5, "Fin de charge": 0, "total": 5, "pct": 71.43},
        {"rank": 2, "code": 5, "Charge": 0, "Fin de charge": 2, "total": 2, "pct": 28.57},
    ]
    assert tables["downstream_codes"]["columns"] == ["rank", "code", "Init", "CableCheck", "total", "pct"]
    assert [(r["code"], r["total"]) for r in tables["downstream_codes"]["rows"]] == [(1234, 2), (99, 1), ("Total", 3)]


def test_errors_by_moment_phases_per_site(tenant):
    charging_load(sessions=SESSIONS)
    rows = run("errors-by-moment", period="month", d1="2026-03-01")["tables"]["phases"]["rows"]
    assert rows == [
        {"site": "CESSON", "code": "cesson", "total": 10, "ok": 3, "failed": 7, "Avant charge": 2, "Charge": 3,
         "Fin de charge": 2, "ok_pct": 30.0, "failed_pct": 70.0},
        {"site": "RENNES", "code": "rennes", "total": 4, "ok": 1, "failed": 3, "Avant charge": 1, "Charge": 2,
         "Fin de charge": 0, "ok_pct": 25.0, "failed_pct": 75.0},
    ]  # fmt: skip


def test_errors_by_moment_pies_by_type_moment_and_phase(tenant):
    charging_load(sessions=SESSIONS)
    result = run("errors-by-moment", period="month", d1="2026-03-01")
    pies = {c["key"]: (c["kind"], c["labels"], c["datasets"][0]["data"], c["table"]) for c in result["charts"]}
    assert pies == {
        "types": ("pie", ["Erreur_EVI", "Erreur_DownStream"], [7, 3], "types"),
        "moments": ("pie", ["Init", "Cable check", "Charge", "End of charge"], [1, 2, 5, 2], "moments"),
        "moment_groups": ("pie", ["Before charge", "Charge", "End of charge"], [3, 5, 2], "moment_groups"),
    }
    assert [(r["type"], r["failed"], r["pct"]) for r in result["tables"]["types"]["rows"]] == [
        ("Erreur_EVI", 7, 70.0),
        ("Erreur_DownStream", 3, 30.0),
    ]


def test_errors_by_moment_count_only_the_selected_moments(tenant):
    charging_load(sessions=SESSIONS)
    result = run("errors-by-moment", period="month", d1="2026-03-01", moments="Charge")
    assert (result["failed"], result["failed_downstream"], result["success_pct"]) == (5, 0, 64.29)
    assert [r["count"] for r in result["tables"]["top_all"]["rows"]] == [5]


def test_errors_by_moment_never_show_another_tenants_sessions(alpha, beta):
    with schema_context(beta.slug):
        charging_load(sessions=[session(f"B{i}", site="BETA-ONLY", outcome=1, ds=77, step=8) for i in range(9)])
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS)
        result = run("errors-by-moment", period="month", d1="2026-03-01")
    assert (result["failed"], result["tables"]["top_all"]["rows"][0]["code"]) == (10, 12)
    assert {r["site"] for r in result["tables"]["phases"]["rows"]} == {"CESSON", "RENNES"}
