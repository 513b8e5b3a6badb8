"""Analysis 9 (Specific error) on hand-built sessions whose answers are counted by hand."""

import pytest
from django_tenants.utils import schema_context

from charging.filters import InvalidFilter
from tests.charging_data import charging_load, session, vehicle
from tests.charging_data import run_analysis as run

VEHICLES = [vehicle("AA:BB:CC", "Model A")]
SESSIONS = [
    session("M1", start="2026-03-02 10:00:00", mac="AA:BB:CC:00:00:01"),
    session("M2", start="2026-03-02 10:30:00", mac="AA:BB:CC:00:00:01", outcome=1, ds=8192, evi=12, step=8),
    # A Downstream error that also carries EVI code 12: not an EVI error.
    session("M3", pdc="PDC2", start="2026-03-03 11:00:00", mac="aa-bb-cc-00-00-02", outcome=1, ds=1234, evi=12,
            step=7),
    session("U1", site="RENNES", start="2026-03-04 09:00:00", mac="11:22:33:44:55:66", outcome=1, evi=12, step=8),
    session("U2", site="RENNES", start="2026-03-04 09:40:00", mac="11:22:33:00:00:01"),
    session("U3", site="RENNES", start="2026-03-10 14:00:00", mac="11:22:33:00:00:02", outcome=1, evi=5, step=1),
    session("U4", start="2026-03-05 12:00:00", mac="DE:AD:BE:EF:00:01"),
    session("N1", start="2026-03-06 12:00:00", mac="", outcome=1, evi=12, step=8),
    session("FEB", start="2026-02-20 10:00:00", mac="AA:BB:CC:00:00:01", outcome=1, evi=12, step=8),
]  # fmt: skip


def test_specific_error_mac_prefix_search_with_its_success_rate(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("specific-error", period="month", d1="2026-03-01", mac="aa:bb:cc")
    assert (result["mac"], result["mac_sessions"], result["mac_ok"], result["mac_failed"], result["success_pct"]) == (
        "AA:BB:CC", 3, 1, 2, 33.33,
    )  # fmt: skip
    rows = result["tables"]["mac_sessions"]["rows"]
    assert [(r["id"], r["vehicle"]) for r in rows] == [("M3", "Model A"), ("M2", "Model A"), ("M1", "Model A")]


def test_specific_error_full_mac_search(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("specific-error", period="month", d1="2026-03-01", mac="AA:BB:CC:00:00:01")
    assert (result["mac_sessions"], result["success_pct"]) == (2, 50.0)
    assert [r["id"] for r in result["tables"]["mac_sessions"]["rows"]] == ["M2", "M1"]


def test_specific_error_mac_success_counts_a_failure_whose_type_is_not_selected_as_ok(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("specific-error", period="month", d1="2026-03-01", mac="AABBCC", types="EVI")
    assert (result["mac_sessions"], result["mac_failed"], result["success_pct"]) == (3, 1, 66.67)


def test_specific_error_without_a_mac_has_no_mac_success_rate(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("specific-error", period="month", d1="2026-03-01")
    assert (result["mac"], result["mac_sessions"], result["success_pct"]) == ("", 0, None)


def test_specific_error_top_unidentified_mac_prefixes(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    rows = run("specific-error", period="month", d1="2026-03-01")["tables"]["unknown_prefixes"]["rows"]
    assert rows == [
        {"prefix": "11:22:33", "total": 3, "ok": 1, "failed": 2, "ok_pct": 33.33},
        {"prefix": "DE:AD:BE", "total": 1, "ok": 1, "failed": 0, "ok_pct": 100.0},
    ]


def test_specific_error_code_search_share_of_all_errors_and_breakdowns(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("specific-error", period="month", d1="2026-03-01", codes="12", code_type="EVI")
    assert (result["codes"], result["matching"], result["errors"], result["share_pct"]) == ([12], 3, 5, 60.0)
    tables = result["tables"]
    assert [r["id"] for r in tables["matching_sessions"]["rows"]] == ["N1", "U1", "M2"]
    assert tables["vehicles"]["rows"] == [
        {"vehicle": "Unknown vehicle", "count": 2, "pct": 66.67},
        {"vehicle": "Model A", "count": 1, "pct": 33.33},
    ]
    assert tables["month_sites"]["rows"] == [
        {"month": "2026-03", "site": "CESSON", "count": 2, "pct": 66.67},
        {"month": "2026-03", "site": "RENNES", "count": 1, "pct": 33.33},
    ]
    assert tables["charge_points"]["rows"] == [
        {"site": "CESSON", "charge_point": "PDC1", "count": 2, "pct": 66.67},
        {"site": "RENNES", "charge_point": "PDC1", "count": 1, "pct": 33.33},
    ]


def test_specific_error_code_list_and_downstream_type(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    assert run("specific-error", period="month", d1="2026-03-01", codes="12, 5")["matching"] == 4
    downstream = run("specific-error", period="month", d1="2026-03-01", codes="1234", code_type="DownStream")
    assert [r["id"] for r in downstream["tables"]["matching_sessions"]["rows"]] == ["M3"]
    assert run("specific-error", period="month", d1="2026-03-01", codes="12", code_type="DownStream")["matching"] == 0


def test_specific_error_drill_down_site_month_day_hour(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("specific-error", period="month", d1="2026-03-01", codes="12,5", drill_site="rennes",
                 drill_month="2026-03", drill_day="2026-03-04")  # fmt: skip
    tables = result["tables"]
    assert tables["drill_months"]["rows"] == [{"month": "2026-03", "count": 2}]
    days = {r["day"]: r["count"] for r in tables["drill_days"]["rows"]}
    assert (len(days), days["2026-03-04"], days["2026-03-10"], days["2026-03-05"]) == (31, 1, 1, 0)
    hours = tables["drill_hours"]["rows"]
    assert (len(hours), hours[9], sum(h["count"] for h in hours)) == (24, {"hour": 9, "count": 1}, 1)


def test_specific_error_drill_down_only_as_deep_as_asked(tenant):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    result = run("specific-error", period="month", d1="2026-03-01", codes="12", drill_site="cesson")
    assert result["tables"]["drill_months"]["rows"] == [{"month": "2026-03", "count": 2}]
    assert (result["tables"]["drill_days"]["rows"], result["tables"]["drill_hours"]["rows"]) == ([], [])


@pytest.mark.parametrize(
    ("params", "field"),
    [({"codes": "12,x"}, "codes"), ({"codes": "99999999999"}, "codes"), ({"mac": "zz:zz"}, "mac"),
     ({"code_type": "Erreur_EVI"}, "code_type"),
     ({"drill_month": "2026-3"}, "drill_month"), ({"drill_day": "2026-03-32"}, "drill_day")],
)  # fmt: skip
def test_specific_error_refuses_a_malformed_parameter(tenant, params, field):
    charging_load(sessions=SESSIONS, vehicles=VEHICLES)
    with pytest.raises(InvalidFilter) as refused:
        run("specific-error", period="month", d1="2026-03-01", **params)
    assert list(refused.value.fields) == [field]


def test_specific_error_never_shows_another_tenants_sessions(alpha, beta):
    with schema_context(beta.slug):
        charging_load(sessions=[
            session("B1", mac="AA:BB:CC:00:00:09", outcome=1, evi=12, step=8),
            session("B2", mac="99:88:77:00:00:01"),
        ])  # fmt: skip
    with schema_context(alpha.slug):
        charging_load(sessions=SESSIONS, vehicles=VEHICLES)
        result = run("specific-error", period="month", d1="2026-03-01", mac="AABBCC", codes="12")
    assert (result["mac_sessions"], result["matching"], result["errors"]) == (3, 3, 5)
    assert "99:88:77" not in {r["prefix"] for r in result["tables"]["unknown_prefixes"]["rows"]}
