"""Importing from the customer's MariaDB/MySQL itself, with its exact schema (column names with
spaces and parentheses): what a source that is down or refuses us leaves in place and says."""

import socket
import time
import uuid

import MySQLdb
import pytest

from alerts.models import Alert
from charging import selectors
from charging.models import ChargingSession, ChargingSource, ImportStatus, ImportTrigger, SourceKind
from charging.services import charging_import_now, source_test_connection
from charging.sources import mysql_schema
from tests.charging_data import fault, mysql_insert, session, vehicle
from tests.conftest import free_port
from tests.mariadb import READER_PASSWORD, READER_USER, mariadb_server, start_own_mariadb


@pytest.fixture(scope="module")
def server():
    return mariadb_server()


@pytest.fixture
def database(server):
    """A fresh database with the customer's three tables, dropped afterwards."""
    name = f"vw_test_{uuid.uuid4().hex[:10]}"
    server.create_database(name)
    connection = MySQLdb.connect(**server.connect_args(database=name))
    mysql_schema.create_tables(connection.cursor())
    yield name, connection
    connection.close()
    server.drop_database(name)


def mysql_source(server, database_name, **changes) -> ChargingSource:
    fields = {"name": "KPI", "kind": SourceKind.MYSQL, "host": server.host, "port": server.port,
              "database": database_name, "user": READER_USER, "password": READER_PASSWORD,
              "time_zone": "Europe/Paris", **changes}  # fmt: skip
    return ChargingSource.objects.create(**fields)


def imported(source, full=False):
    return charging_import_now(source=source, trigger=ImportTrigger.COMMAND, full=full)


def test_sessions_faults_and_vehicles_are_imported_from_the_exact_schema(server, database, tenant):
    name, connection = database
    sessions = [session("S1", outcome=1, ds=0, evi=12, step=5), session("S2", mac="AA:BB:CC:01:02:03")]
    mysql_insert(connection, vehicles=[vehicle("AA:BB:CC", "Zoé")], faults=[fault(7, end=None)], sessions=sessions)
    run = imported(mysql_source(server, name))
    assert (run.status, run.rows_read, run.rows_created, run.rows_rejected) == ("succeeded", 4, 4, 0)
    assert dict(ChargingSession.objects.values_list("external_id", "moment")) == {"S1": "Lock Connector",
                                                                                  "S2": "Unknown"}  # fmt: skip
    assert ChargingSession.objects.get(external_id="S2").vehicle == "Zoé"


def test_a_reimport_is_idempotent_and_an_updated_row_updates_ours(server, database, tenant):
    name, connection = database
    mysql_insert(connection, sessions=[session("S1"), session("S2")])
    source = mysql_source(server, name)
    imported(source)
    again = imported(source)
    assert (again.rows_created, again.rows_updated) == (0, 0)
    mysql_insert(connection, sessions=[session("S2", outcome=1, ds=4321, step=7)])
    changed = imported(source)
    assert (changed.rows_created, changed.rows_updated) == (0, 1)
    assert ChargingSession.objects.get(external_id="S2").error_type == "Erreur_DownStream"


def test_an_incremental_import_reads_from_the_newest_start_minus_the_margin(server, database, tenant):
    name, connection = database
    mysql_insert(connection, sessions=[session("OLD", start="2026-03-01 10:00:00"),
                                       session("NEW", start="2026-03-10 10:00:00")])  # fmt: skip
    source = mysql_source(server, name, margin_hours=48)
    imported(source)
    mysql_insert(connection, sessions=[session("LATE", start="2026-03-08 11:00:00"),    # within 48 h of NEW
                                       session("LOST", start="2026-03-08 09:00:00")])  # fmt: skip
    run = imported(source)
    assert run.rows_read == 2  # NEW and LATE
    assert set(ChargingSession.objects.values_list("external_id", flat=True)) == {"OLD", "NEW", "LATE"}
    assert imported(source, full=True).rows_read == 4


def test_bad_rows_are_counted_and_the_good_ones_imported(server, database, tenant):
    name, connection = database
    mysql_insert(connection, sessions=[session("GOOD"), session("BAD", outcome=5), session("NEG", energy=-2)])
    run = imported(mysql_source(server, name))
    assert (run.status, run.rows_created, run.rows_rejected) == ("succeeded", 1, 2)
    assert {r["id"] for r in run.rejects} == {"BAD", "NEG"}


def test_a_wrong_password_fails_with_the_reason_and_keeps_the_data(server, database, tenant):
    name, connection = database
    mysql_insert(connection, sessions=[session("S1")])
    source = mysql_source(server, name)
    imported(source)
    source.password = "not-the-password"
    source.save()
    run = imported(source)
    assert run.status == ImportStatus.FAILED
    assert run.error.startswith("The server refused the user name or password: Access denied for user 'vw_reader'")
    assert ChargingSession.objects.count() == 1
    assert Alert.objects.filter(type="charging_source_unreachable", status="firing").count() == 1


def test_a_source_that_is_down_keeps_its_data_says_so_and_raises_one_alert_until_it_answers(server, database, tenant):
    name, connection = database
    mysql_insert(connection, sessions=[session("S1")])
    source = mysql_source(server, name)
    imported(source)
    source.port = free_port()  # nothing listens there
    source.save()
    first = imported(source)
    second = imported(source)
    assert (first.status, second.status) == (ImportStatus.FAILED, ImportStatus.FAILED)
    assert first.error.startswith("Nothing answers at this host and port")
    assert ChargingSession.objects.count() == 1
    source.refresh_from_db()
    assert source.unreachable_since == first.finished_at
    state = selectors.freshness()["sources"][0]
    assert (state["unreachable_since"], state["last_error"]) == (first.finished_at, second.error)
    alerts = Alert.objects.filter(type="charging_source_unreachable", source_id=str(source.pk))
    assert list(alerts.values_list("status", flat=True)) == ["firing"]

    source.port = server.port
    source.save()
    assert imported(source).status == ImportStatus.SUCCEEDED
    source.refresh_from_db()
    assert (source.unreachable_since, source.last_error) == (None, "")
    assert list(alerts.values_list("status", flat=True)) == ["resolved"]


def test_test_connection_reports_the_tables_and_the_newest_session(server, database, tenant):
    name, connection = database
    mysql_insert(connection, sessions=[session("S1", start="2026-03-02 10:00:00"),
                                       session("S2", start="2026-03-05 18:30:00")], faults=[fault(1)])  # fmt: skip
    report = source_test_connection(source=mysql_source(server, name))
    assert (report.ok, report.tables) == (True, {"kpi_sessions": 2, "kpi_defauts_log": 1, "mac_lookup": 0})
    assert report.newest_session.isoformat() == "2026-03-05T18:30:00"


def test_test_connection_says_why_a_database_cannot_be_read(server, tenant):
    report = source_test_connection(source=mysql_source(server, "no_such_database_here"))
    assert report.ok is False
    assert report.reason == (
        "The user may not read this database (or it does not exist): "
        "Access denied for user 'vw_reader'@'%' to database 'no_such_database_here'"
    )


def test_a_missing_column_fails_the_import_naming_it(server, database, tenant):
    name, connection = database
    connection.cursor().execute("ALTER TABLE kpi_sessions DROP COLUMN `Datetime start`")
    run = imported(mysql_source(server, name))
    assert (run.status, run.error) == ("failed", "Table kpi_sessions lacks the columns Datetime start.")


def test_where_no_mariadb_answers_the_setup_starts_its_own_and_the_import_reads_it(tenant):
    own = start_own_mariadb()  # what a machine without MariaDB gets
    own.create_database("vw_own")
    connection = MySQLdb.connect(**own.connect_args("vw_own"))
    mysql_schema.create_tables(connection.cursor())
    mysql_insert(connection, sessions=[session("S1")])
    run = imported(mysql_source(own, "vw_own"))
    assert (run.status, run.rows_created) == ("succeeded", 1)


def test_test_connection_gives_up_within_its_time_on_a_server_that_never_answers(tenant):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts the connection, never says a word
    port = silent.getsockname()[1]
    source = ChargingSource.objects.create(name="Silent", host="127.0.0.1", port=port, user="u", database="d")
    started = time.monotonic()
    report = source_test_connection(source=source)
    elapsed = time.monotonic() - started
    silent.close()
    assert report.ok is False
    assert report.reason.startswith("The connection was lost during the query: Lost connection to server")
    assert elapsed < 5
