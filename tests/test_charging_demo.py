"""The demo's charging data: the customer's exact shape, realistic enough for every analysis to show
something (usage peaks, ~94 % OK, the customer's codes, recurring errors, suspicious sessions, new
attempts, known and unknown vehicles, faults), and loaded through the real import without a reject."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest

from charging import demo
from charging.models import ChargingSession, Fault, ImportStatus, SourceKind
from charging.sources import mysql_schema

NOW = datetime(2026, 3, 15, 18, 30)  # local time (Europe/Paris)
OUTCOME = "State of charge(0:good, 1:error)"


@pytest.fixture(scope="module")
def data():
    return demo.dataset(NOW, days=90)


@pytest.fixture(scope="module")
def sessions(data):
    return data[0]


def failed(rows):
    return [r for r in rows if r[OUTCOME] == 1]


def test_every_table_has_the_customers_column_names_exactly(data):
    sessions, faults, vehicles = data
    assert {tuple(row) for row in sessions} == {
        tuple(mysql_schema.SESSION_COLUMNS + mysql_schema.SESSION_EXTRA_COLUMNS)
    }
    assert {tuple(row) for row in faults} == {tuple(mysql_schema.FAULT_COLUMNS)}
    assert {tuple(row) for row in vehicles} == {tuple(mysql_schema.VEHICLE_COLUMNS)}


def test_session_and_fault_ids_are_unique(data):
    sessions, faults, _vehicles = data
    assert len({r["ID"] for r in sessions}) == len(sessions)
    assert len({r["id"] for r in faults}) == len(faults)


def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    assert demo.dataset(NOW, days=3) == demo.dataset(NOW, days=3)
    assert demo.dataset(NOW, days=3, seed=99)[0] != demo.dataset(NOW, days=3)[0]


def test_a_days_sessions_are_the_same_whenever_they_are_generated():
    """What the live demo relies on: later, the past is unchanged and only new sessions appear."""
    earlier = demo.dataset(NOW, days=10)[0]
    later = demo.dataset(NOW + timedelta(days=2), days=12)[0]
    assert [r for r in later if r["Datetime end"] <= str(NOW)] == earlier


def test_nine_towns_in_capitals_and_35_charge_points(sessions):
    assert sorted({r["Site"] for r in sessions}) == sorted(name for name, _count, _busy in demo.DEMO_SITES)
    assert all(site == site.upper() for site in {r["Site"] for r in sessions})
    assert len({(r["Site"], r["PDC"]) for r in sessions}) == 35
    assert {r["PDC"] for r in sessions if r["Site"] == "QUIMPER"} == {"PDC1", "PDC2"}


def test_about_six_sessions_per_charge_point_and_day(sessions):
    assert 5 <= len(sessions) / (35 * 90) <= 8


def test_between_92_and_96_percent_of_the_sessions_are_ok(sessions):
    ok = sum(1 for r in sessions if r[OUTCOME] != 1)
    assert 0.92 <= ok / len(sessions) <= 0.96
    assert any(r[OUTCOME] is None for r in sessions)  # NULL counts as OK: the customer's data has some


def test_usage_peaks_at_8_to_10_and_17_to_20_and_is_lower_at_weekends(sessions):
    hours = Counter(int(r["Datetime start"][11:13]) for r in sessions)
    assert min(hours[h] for h in (8, 9, 17, 18, 19)) > max(hours[h] for h in (0, 1, 2, 3, 4, 5, 13, 14))
    days = Counter(datetime.fromisoformat(r["Datetime start"]).weekday() for r in sessions)
    assert max(days[5], days[6]) < min(days[d] for d in range(5))


def test_failures_carry_the_customers_codes_and_steps(sessions):
    failures = failed(sessions)
    assert {r["type_erreur"] for r in failures} == {"Erreur_EVI", "Erreur_DownStream", "Erreur_Unknow_S"}
    downstream = {r["Downstream Code PC"] for r in failures}
    assert 8192 in downstream and len(downstream - {0, 8192}) >= 5
    assert any(r["Downstream Code PC"] == 0 and r["EVI Error Code"] != 0 for r in failures)
    assert {r["EVI Status during error"] for r in failures} >= {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
    assert {r["moment"] for r in failures} == {"Init", "Lock Connector", "CableCheck", "Charge", "Fin de charge",
                                               "Unknown"}  # fmt: skip


def test_a_failure_before_the_charge_delivered_no_energy(sessions):
    before = [r for r in failed(sessions) if r["moment_avancee"] == "Avant charge"]
    assert before and {r["Energy (Kwh)"] for r in before} == {0.0}


def test_some_charge_points_fail_the_same_way_three_times_within_12_hours(sessions):
    groups = defaultdict(list)
    for r in failed(sessions):
        key = (r["Site"], r["PDC"], r["type_erreur"], r["moment"], r["EVI Error Code"], r["Downstream Code PC"])
        groups[key].append(datetime.fromisoformat(r["Datetime start"]))
    bursts = 0
    for starts in groups.values():
        starts.sort()
        bursts += any(starts[i + 2] - starts[i] <= timedelta(hours=12) for i in range(len(starts) - 2))
    assert bursts >= 10


def test_some_ok_sessions_delivered_less_than_1_kwh(sessions):
    suspicious = [r for r in sessions if r[OUTCOME] != 1 and r["Energy (Kwh)"] < 1]
    assert 0.005 <= len(suspicious) / len(sessions) <= 0.03


def test_drivers_try_again_within_the_hour(sessions):
    groups = Counter((r["Site"], r["Datetime start"][:13], r["MAC Address"]) for r in sessions if r["MAC Address"])
    attempts = [key for key, count in groups.items() if count >= 2]
    assert len(attempts) >= 0.01 * len(sessions)


def test_mac_lookup_has_full_macs_6_and_4_digit_prefixes_and_some_vehicles_are_unknown(data):
    from charging.derivations import mac_digits, vehicle_of

    sessions, _faults, vehicles = data
    lengths = Counter(len(mac_digits(row["MAC"])) for row in vehicles)
    assert lengths[12] >= 5 and lengths[6] >= 10 and lengths[4] >= 1
    table = {mac_digits(row["MAC"]): row["Vehicle"] for row in vehicles}
    found = Counter(bool(vehicle_of(r["MAC Address"], table)) for r in sessions if r["MAC Address"])
    assert 0.05 <= found[False] / (found[True] + found[False]) <= 0.2
    assert any(not r["MAC Address"] for r in sessions)


def test_faults_are_active_and_resolved_on_charge_points_and_drives(data):
    _sessions, faults, _vehicles = data
    assert any(r["date_fin"] is None for r in faults) and any(r["date_fin"] for r in faults)
    assert {"Défaut isolement", "Arrêt d'urgence"} <= {r["defaut"] for r in faults}
    equipment = {r["eqp"] for r in faults}
    assert "PDC1" in equipment and "Variateur HC1" in equipment
    assert all(r["date_debut"] <= str(NOW) for r in faults)


def test_generate_sessions_gives_exactly_n_rows_on_that_many_charge_points():
    rows = list(demo.generate_sessions(5000, charge_points=20, years=0.25, seed=3))
    assert len(rows) == 5000 == len({r["ID"] for r in rows})
    assert len({(r["Site"], r["PDC"]) for r in rows}) == 20


def test_the_demo_load_imports_every_row_without_a_reject(tenant):
    sessions, faults, vehicles = demo.dataset(NOW, days=20)
    run = demo.load(NOW, days=20, mysql_url="")
    assert (run.status, run.rows_rejected, run.source.name, run.source.kind) == (
        ImportStatus.SUCCEEDED, 0, "Démo (exports)", SourceKind.FILES)  # fmt: skip
    assert run.rows_created == len(sessions) + len(faults) + len(vehicles)
    assert ChargingSession.objects.count() == len(sessions)
    assert Fault.objects.filter(ended_at__isnull=True).count() == sum(r["date_fin"] is None for r in faults)


def test_the_live_demo_adds_the_sessions_that_ended_since(tenant):
    demo.load(NOW, days=5, mysql_url="")
    later = NOW + timedelta(hours=3)
    new = [r for r in demo.dataset(later, days=1)[0] if r["Datetime end"] > str(NOW)]
    run = demo.load(later, days=5, mysql_url="")
    assert (run.rows_rejected, ChargingSession.objects.filter(external_id__in=[r["ID"] for r in new]).count()) == (
        0, len(new))  # fmt: skip
    assert len(new) > 10
    assert demo.load(later, days=5, mysql_url="") is None  # nothing new since


def test_the_demo_is_imported_over_mysql_when_a_database_is_given(tenant):
    from tests.mariadb import mariadb_server

    server = mariadb_server()
    server.create_database("voltwatch_test_charging_demo")
    try:
        url = f"mysql://{server.user}:{server.password}@{server.host}:{server.port}/voltwatch_test_charging_demo"
        run = demo.load(NOW, days=3, mysql_url=url)
        sessions = demo.dataset(NOW, days=3)[0]
        assert (run.status, run.rows_rejected, run.source.name, run.source.kind) == (
            ImportStatus.SUCCEEDED, 0, "Démo (MySQL)", SourceKind.MYSQL)  # fmt: skip
        assert ChargingSession.objects.count() == len(sessions)
        later = NOW + timedelta(hours=3)
        new = [r for r in demo.dataset(later, days=1)[0] if r["Datetime end"] > str(NOW)]
        tick = demo.load(later, days=3, mysql_url=url)  # the live demo: into the MySQL, then imported from it
        assert (tick.status, tick.rows_rejected) == (ImportStatus.SUCCEEDED, 0)
        assert ChargingSession.objects.count() == len(sessions) + len(new)
    finally:
        server.drop_database("voltwatch_test_charging_demo")


def test_a_demo_mysql_that_does_not_answer_leaves_a_failed_import_not_a_failed_seed(tenant):
    from tests.conftest import free_port

    run = demo.load(NOW, days=1, mysql_url=f"mysql://root@127.0.0.1:{free_port()}/nowhere")
    assert (run.status, run.source.kind) == (ImportStatus.FAILED, SourceKind.MYSQL)
    assert run.error.startswith("Nothing answers at this host and port")
    assert run.source.unreachable_since is not None
