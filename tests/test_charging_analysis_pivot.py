"""Analysis 5 (Pivot projection) on hand-built failures whose table is counted by hand."""

from django_tenants.utils import schema_context

from charging.analyses.pivot import bucket
from tests.charging_data import charging_load, session
from tests.charging_data import run_analysis as run

SESSIONS = [
    session("P1", pdc="PDC1", outcome=1, ds=8192, evi=12, step=8),  # EVI (DS 8192), Charge, code 12
    session("P2", pdc="PDC1", outcome=1, ds=8192, evi=12, step=8),
    session("P3", pdc="PDC1", outcome=1, ds=0, evi=5, step=3),  # EVI, Fin de charge (step 3), code 5
    session("P4", pdc="PDC1", outcome=1, ds=1234, step=7),  # Downstream, CableCheck, code 1234
    session("P5", pdc="PDC1"),
    session("Q1", pdc="PDC2", outcome=1, ds=0, evi=12, step=8),
    session("Q2", pdc="PDC2", outcome=1, ds=1234, step=2),  # Downstream, Init
    session("Q3", pdc="PDC2", outcome=1, ds=0, evi=0),  # Erreur_Unknow_S: not in either table
    session("Q4", pdc="PDC3"),
    session("R1", site="RENNES", outcome=1, ds=0, evi=5, step=-1),  # EVI, Fin de charge (step -1)
    session("R2", site="RENNES", outcome=1, ds=99, step=8),
]


def cells(row, keys):
    return [row[key] for key in keys]


def test_pivot_evi_table_has_the_site_total_then_each_charge_point(tenant):
    charging_load(sessions=SESSIONS)
    result = run("pivot", period="month", d1="2026-03-01")
    assert (result["site"], result["failed_evi"], result["failed_downstream"]) == ("cesson", 4, 2)
    table = result["tables"]["evi"]
    assert table["columns"] == ["label", "s8_c12", "s3_c5", "total", "pct", "bucket"]
    assert [c["label"] for c in result["evi_columns"]] == ["Charge · 8 · 12", "End of charge · 3 · 5"]
    assert [(r["label"], r["s8_c12"], r["s3_c5"], r["total"], r["pct"]) for r in table["rows"]] == [
        ("CESSON (TOTAL)", 3, 1, 4, 100.0),
        ("PDC1", 2, 1, 3, 75.0),
        ("PDC2", 1, 0, 1, 25.0),
        ("PDC3", 0, 0, 0, 0.0),  # sessions, no EVI failure
    ]


def test_pivot_shades_cells_and_percentages_by_quarters(tenant):
    charging_load(sessions=SESSIONS)
    rows = run("pivot", period="month", d1="2026-03-01")["tables"]["evi"]["rows"]
    # The TOTAL row against its own largest cell (3); charge points against theirs (2).
    assert [(r["buckets"], r["bucket"]) for r in rows] == [
        ({"s8_c12": 4, "s3_c5": 2}, 4),
        ({"s8_c12": 4, "s3_c5": 2}, 3),
        ({"s8_c12": 2, "s3_c5": 0}, 1),
        ({"s8_c12": 0, "s3_c5": 0}, 0),
    ]
    assert [bucket(v, 8) for v in (0, 1, 2, 3, 8)] == [0, 1, 1, 2, 4]


def test_pivot_downstream_table_by_step_and_code(tenant):
    charging_load(sessions=SESSIONS)
    table = run("pivot", period="month", d1="2026-03-01")["tables"]["downstream"]
    assert table["columns"] == ["label", "s2_c1234", "s7_c1234", "total", "pct", "bucket"]
    assert [cells(r, ["label", "s2_c1234", "s7_c1234", "total", "pct"]) for r in table["rows"]] == [
        ["CESSON (TOTAL)", 1, 1, 2, 100.0],
        ["PDC1", 0, 1, 1, 50.0],
        ["PDC2", 1, 0, 1, 50.0],
        ["PDC3", 0, 0, 0, 0.0],
    ]


def test_pivot_of_two_sites(tenant):
    charging_load(sessions=SESSIONS)
    result = run("pivot", period="month", d1="2026-03-01", site="cesson", site2="rennes")
    assert (result["site"], result["site2"], result["failed_evi"], result["failed_downstream"]) == (
        "cesson", "rennes", 5, 3,
    )  # fmt: skip
    table = result["tables"]["evi"]
    assert table["columns"] == ["label", "s8_c12", "s-1_c5", "s3_c5", "total", "pct", "bucket"]
    assert [cells(r, table["columns"][:-1]) for r in table["rows"][4:]] == [
        ["RENNES (TOTAL)", 0, 1, 0, 1, 100.0],
        ["PDC1", 0, 1, 0, 1, 100.0],
    ]
    assert [(r["site"], r["failed"], r["ok_pct"]) for r in result["tables"]["sites"]["rows"]] == [
        ("CESSON", 6, 33.33),
        ("RENNES", 2, 0.0),
    ]


def test_pivot_leaves_out_a_failure_whose_type_is_not_selected(tenant):
    charging_load(sessions=SESSIONS)
    result = run("pivot", period="month", d1="2026-03-01", types="EVI")
    assert (result["failed_evi"], result["failed_downstream"]) == (4, 0)
    assert result["tables"]["downstream"]["columns"] == ["label", "total", "pct", "bucket"]


def test_pivot_never_shows_another_tenants_sessions(alpha, beta):
    with schema_context(beta.slug):
        charging_load(sessions=[session("B1", site="AAA-BETA", outcome=1, ds=0, evi=77, step=8)])
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS)
        result = run("pivot", period="month", d1="2026-03-01", site2="aaa-beta")
    assert (result["site"], result["site2"], result["failed_evi"]) == ("cesson", "", 4)
    assert "s8_c77" not in result["tables"]["evi"]["columns"]
