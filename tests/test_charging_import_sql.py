"""The import derives and checks sessions in PostgreSQL (`charging.session_merge`): the SQL gives what
`charging.derivations` defines, local times are the source's wall clock across the DST changes, and
every source's values go the same way after reading."""

import itertools
import uuid
from datetime import UTC, datetime

import MySQLdb
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from charging import derivations
from charging.models import ChargingSession, ChargingSource, ImportTrigger, SourceKind
from charging.services import charging_import_now
from charging.sources import mysql_schema
from tests.charging_data import charging_load, mysql_insert, session
from tests.mariadb import READER_PASSWORD, READER_USER, mariadb_server


@pytest.fixture
def tenant(alpha):
    with schema_context(alpha.slug):
        yield alpha


def stored(external_id):
    return ChargingSession.objects.get(external_id=external_id)


def test_the_sql_derivations_give_what_the_python_definitions_give_on_every_case(db):
    cases = list(itertools.product((None, 0, 1), (None, 0, 8192, 1234), (None, 0, 5), (None, -1, 0, 1, 2, 3, 4, 5, 6,
                                                                                        7, 8, 9)))  # fmt: skip
    error_type = derivations.sql_error_type(outcome="o", downstream_code="ds", evi_code="evi")
    moment = derivations.sql_moment(error_type=error_type, step="step")
    rows = ", ".join("(%s::int, %s::int, %s::int, %s::int)" for _case in cases)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {derivations.sql_is_ok('o')}, {error_type}, {moment}, {derivations.sql_moment_group(moment)} "
            f"FROM (VALUES {rows}) AS c (o, ds, evi, step)",
            [value for case in cases for value in case],
        )
        in_sql = cursor.fetchall()
    in_python = []
    for outcome, ds, evi, step in cases:
        kind = derivations.error_type(outcome=outcome, downstream_code=ds, evi_code=evi)
        when = derivations.moment(error_type=kind, step=step)
        in_python.append((derivations.is_ok(outcome), kind, when, derivations.moment_group(when)))
    assert in_sql == in_python
    # OK; failed of unknown type; EVI and Downstream each at the 5 moments and Unknown: every answer there is.
    assert len(set(in_python)) == 14


def test_the_sql_mac_digits_are_the_python_ones(db):
    macs = ["aa:bb:cc:01:02:03", "AA-BB-CC-01-02-03", " aabb.cc01.0203 ", "zz:11", "", None, "Ab:Cd:eF"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(derivations.sql_mac_digits("%s::text") for _mac in macs), macs)
        in_sql = list(cursor.fetchone())
    assert in_sql == [derivations.mac_digits(mac) for mac in macs]
    assert in_sql[:3] == ["AABBCC010203"] * 3


def test_an_hour_that_happens_twice_in_autumn_is_taken_the_first_time(tenant):
    # Europe/Paris, 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    charging_load(sessions=[session("S1", start="2026-10-25 02:30:00", end="2026-10-25 02:45:00")])
    row = stored("S1")
    assert row.started_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first time
    assert (row.local_date.isoformat(), row.local_hour, row.duration_s) == ("2026-10-25", 2, 900)


def test_an_hour_that_does_not_exist_in_spring_lands_just_after_the_change(tenant):
    # Europe/Paris, 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 never shows on the clock.
    charging_load(sessions=[session("S1", start="2026-03-29 02:30:00", end="2026-03-29 03:40:00")])
    row = stored("S1")
    assert row.started_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # what the clock shows as 03:30
    assert (row.local_hour, row.duration_s) == (2, 600)


def test_the_same_id_twice_in_a_file_stores_the_later_row(tenant):
    run = charging_load(sessions=[session("S1", energy=10), session("S1", energy=12)])
    assert (run.rows_read, run.rows_created) == (2, 1)
    assert stored("S1").energy_kwh == 12


def test_values_out_of_their_range_are_refused_with_the_reason(tenant):
    run = charging_load(sessions=[session("SOC", soc_end=150), session("CODE", evi=2**40),
                                  session("NAN", energy="lots"), session("OK")])  # fmt: skip
    assert {r["id"]: r["reason"] for r in run.rejects} == {
        "SOC": "SOC End: 150.0 is outside 0–100 %",
        "CODE": "EVI Error Code: 1099511627776 is out of range",
        "NAN": "Energy (Kwh): “lots” is not a number",
    }
    assert list(ChargingSession.objects.values_list("external_id", flat=True)) == ["OK"]


def test_names_are_read_without_their_surrounding_spaces_and_the_vehicle_column_fills_in(tenant):
    charging_load(sessions=[session(" S1 ", site=" CESSON ", pdc="PDC1 ", mac=None, vehicle=" Zoé ")])
    row = ChargingSession.objects.select_related("site", "charge_point").get()
    assert (row.external_id, row.site.name, row.charge_point.name, row.vehicle) == ("S1", "CESSON", "PDC1", "Zoé")


@pytest.fixture
def mysql_database():
    server = mariadb_server()
    name = f"vw_test_{uuid.uuid4().hex[:10]}"
    server.create_database(name)
    connection = MySQLdb.connect(**server.connect_args(database=name))
    mysql_schema.create_tables(connection.cursor())
    yield server, name, connection
    connection.close()
    server.drop_database(name)


def test_a_database_column_of_another_type_is_read_like_a_files_text(mysql_database, tenant):
    server, name, connection = mysql_database
    connection.cursor().execute("ALTER TABLE kpi_sessions MODIFY `Energy (Kwh)` VARCHAR(16)")
    mysql_insert(connection, sessions=[session("GOOD", energy="12,5"), session("BAD", energy="n/a")])
    source = ChargingSource.objects.create(name="KPI", kind=SourceKind.MYSQL, host=server.host, port=server.port,
                                           database=name, user=READER_USER, password=READER_PASSWORD)  # fmt: skip
    run = charging_import_now(source=source, trigger=ImportTrigger.COMMAND)
    assert (run.status, run.rows_created) == ("succeeded", 1)
    assert run.rejects == [{"table": "sessions", "id": "BAD", "reason": "Energy (Kwh): “n/a” is not a number"}]
    assert stored("GOOD").energy_kwh == 12.5


def test_the_batch_read_ahead_hands_over_the_sources_error_after_the_batches_before_it():
    from charging.importing import _ahead
    from charging.sources.base import SessionBatch, SourceUnavailable

    def batches():
        yield SessionBatch([("S1",)])
        yield SessionBatch([("S2",)])
        raise SourceUnavailable("The connection was lost during the query")

    seen = []
    with pytest.raises(SourceUnavailable, match="lost during the query"):
        for batch in _ahead(batches()):
            seen.append(batch.rows[0][0])
    assert seen == ["S1", "S2"]


def test_leaving_the_read_ahead_early_stops_the_reading_and_closes_the_source():
    from charging.importing import _ahead
    from charging.sources.base import SessionBatch

    read, closed = [], []

    def batches():
        try:
            for n in range(100):
                read.append(n)
                yield SessionBatch([(f"S{n}",)])
        finally:
            closed.append(True)

    for _batch in _ahead(batches()):
        break
    assert closed == [True]
    assert len(read) <= 3  # the one merged, the one read ahead, the one being read
