"""The pre-aggregates the analyses read (charging.rollups) follow the sessions through every import:
a session changed, moved to another day or deleted behind the import's back, and groups of attempts
spread over two sources."""

from charging.models import ChargingSession
from tests.charging_data import charging_load, files_source, session
from tests.charging_data import run_analysis as run


def figures(name, *keys, **params):
    result = run(name, **params)
    return tuple(result[key] for key in keys)


MARCH = {"period": "month", "d1": "2026-03-01"}
APRIL = {"period": "month", "d1": "2026-04-01"}


def test_a_session_a_later_import_turns_into_a_failure_counts_as_failed(tenant):
    charging_load(sessions=[session("S1", start="2026-03-02 10:00:00"), session("S2", start="2026-03-03 10:00:00")])
    assert figures("general", "total", "failed", **MARCH) == (2, 0)
    charging_load(sessions=[session("S1", start="2026-03-02 10:00:00", outcome=1, ds=8192, step=8)])
    assert figures("general", "total", "failed", **MARCH) == (2, 1)
    assert run("general", **MARCH)["tables"]["moments"]["rows"][0]["failed"] == 1


def test_a_session_whose_start_moves_to_another_month_leaves_the_first_one(tenant):
    charging_load(sessions=[session("S1", start="2026-03-31 23:30:00"), session("S2", start="2026-04-02 10:00:00")])
    charging_load(sessions=[session("S1", start="2026-04-01 00:30:00")])
    assert figures("general", "total", **MARCH) == (0,)
    assert figures("general", "total", **APRIL) == (2,)
    assert [(m["month"], m["sessions"]) for m in run("evolution")["months"]] == [("2026-04", 2)]


def test_a_session_deleted_behind_the_imports_back_is_gone_after_the_next_import(tenant):
    charging_load(sessions=[session("S1", start="2026-03-05 10:00:00", energy=0.5), session("S2")])
    assert figures("suspicious", "count", **MARCH) == (1,)
    ChargingSession.objects.filter(external_id="S1").delete()
    charging_load(sessions=[session("S3", start="2026-03-20 10:00:00")])
    assert figures("suspicious", "count", **MARCH) == (0,)
    assert figures("general", "total", **MARCH) == (2,)


def test_attempts_of_one_vehicle_in_one_hour_group_across_two_sources(tenant):
    charging_load(sessions=[session("A1", start="2026-03-02 10:05:00", pdc="PDC1")])
    charging_load(sessions=[session("B1", start="2026-03-02 10:40:00", pdc="PDC2")], source=files_source("Other"))
    result = run("multiple-attempts", **MARCH)
    assert (result["count"], result["sessions"]) == (1, 2)
    assert result["tables"]["groups"]["rows"][0]["session_ids"] == "A1, B1"


def test_a_second_attempt_imported_later_makes_a_group(tenant):
    charging_load(sessions=[session("A1", start="2026-03-02 10:05:00")])
    assert figures("multiple-attempts", "count", **MARCH) == (0,)
    charging_load(sessions=[session("A2", start="2026-03-02 10:50:00", outcome=1, ds=8192, step=8)])
    result = run("multiple-attempts", **MARCH)
    assert (result["count"], result["sessions"]) == (1, 2)
    assert (result["tables"]["groups"]["rows"][0]["ok"], result["tables"]["groups"]["rows"][0]["failed"]) == (1, 1)
    assert figures("overview", "multiple_attempts", **MARCH) == (1,)
