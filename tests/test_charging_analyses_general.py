from tests.charging_data import charging_load, session
from tests.charging_data import run_analysis as run


def test_general_counts_a_filtered_out_failure_as_ok(tenant):
    charging_load(sessions=[
        session("OK1"), session("OK2", outcome=None),
        session("EVI", outcome=1, ds=8192, step=8),
        session("DS", outcome=1, ds=1234, step=2),
        session("UNK", outcome=1, ds=0, evi=0),
        session("OTHER", site="RENNES", outcome=1, ds=8192, step=1),
    ])  # fmt: skip
    result = run("general", period="month", d1="2026-03-01", types="EVI")
    assert {k: result[k] for k in ("total", "ok", "failed", "success_pct", "failure_pct")} == {
        "total": 6,
        "ok": 4,
        "failed": 2,
        "success_pct": 66.67,
        "failure_pct": 33.33,
    }
    rows = {r["site"]: r for r in result["tables"]["sites"]["rows"]}
    assert (rows["CESSON"]["total"], rows["CESSON"]["failed"], rows["CESSON"]["Charge"]) == (5, 1, 1)
    assert (rows["RENNES"]["failed"], rows["RENNES"]["Avant charge"]) == (1, 1)
