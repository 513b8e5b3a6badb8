import pytest
from django_tenants.utils import schema_context

from charging import selectors
from charging.analyses import analysis
from charging.filters import parse_filters
from tests.charging_data import charging_load, session


@pytest.fixture
def tenant(alpha):
    with schema_context(alpha.slug):
        yield alpha


def run(name, **params):
    filters = parse_filters(params, bounds=selectors.data_bounds(), site_ids_by_code=selectors.site_ids_by_code())
    return analysis(name).run(filters).as_json()


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
