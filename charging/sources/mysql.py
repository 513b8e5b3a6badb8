"""The customer's KPI database (MySQL or MariaDB), read with mysqlclient through a server-side cursor:
rows stream in batches, never all in memory."""

import contextlib
import re
import time
from collections.abc import Iterator
from datetime import datetime

import MySQLdb
import MySQLdb.cursors
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from charging.sources import columns
from charging.sources.base import BATCH_ROWS, ConnectionReport, SourceUnavailable

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 300
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]{1,64}$")

# MySQL's error numbers worth a sentence of our own (translated when raised); the server's own message follows it.
_REASONS = {
    1045: gettext_noop("The server refused the user name or password"),
    1044: gettext_noop("The user may not read this database (or it does not exist)"),
    1049: gettext_noop("The database does not exist on this server"),
    1146: gettext_noop("A table is missing"),
    2002: gettext_noop("Nothing answers at this host and port"),
    2003: gettext_noop("Nothing answers at this host and port"),
    2005: gettext_noop("The host name is unknown"),
    2006: gettext_noop("The server went away"),
    2013: gettext_noop("The connection was lost during the query"),
}


def _reason(error: MySQLdb.Error) -> str:
    code = error.args[0] if error.args else None
    message = error.args[1] if len(error.args) > 1 else str(error)
    known = _REASONS.get(code)
    return f"{_(known)}: {message}" if known else f"MySQL {code}: {message}"


def _table(name: str) -> str:
    if not _IDENTIFIER.match(name or ""):
        raise SourceUnavailable(_("“%(name)s” is not a table name (letters, digits and _ only).") % {"name": name})
    return f"`{name}`"


def connect(source, *, connect_timeout: float = CONNECT_TIMEOUT_S):
    try:
        return MySQLdb.connect(
            host=source.host, port=int(source.port), user=source.user, password=source.password,
            database=source.database, charset="utf8mb4", connect_timeout=int(connect_timeout),
            read_timeout=READ_TIMEOUT_S,
        )  # fmt: skip
    except MySQLdb.Error as error:
        raise SourceUnavailable(_reason(error)) from error


class MysqlReader:
    def __init__(self, source):
        self.source = source
        self.connection = connect(source)
        self.present = {table: self._columns(table) for table in columns.TABLES}

    def _table_name(self, table: str) -> str:
        return {"sessions": self.source.sessions_table, "faults": self.source.faults_table,
                "vehicles": self.source.vehicles_table}[table]  # fmt: skip

    def _columns(self, table: str) -> list[str]:
        name = self._table_name(table)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {_table(name)} LIMIT 0")
                present = [d[0] for d in cursor.description]
        except MySQLdb.Error as error:
            raise SourceUnavailable(_reason(error)) from error
        missing = columns.missing_columns(table, present)
        if missing:
            raise SourceUnavailable(
                _("Table %(table)s lacks the columns %(columns)s.") % {"table": name, "columns": ", ".join(missing)}
            )
        return present

    def _select(self, table: str, where: str = "", params=()) -> tuple[str, list[str], tuple]:
        pairs = columns.fields_of(table, self.present[table])
        listed = ", ".join(f"`{column}`" for column, _field in pairs)
        sql = f"SELECT {listed} FROM {_table(self._table_name(table))} {where}"
        return sql, [field for _column, field in pairs], params

    def _stream(self, sql: str, fields: list[str], params=()) -> Iterator[list[dict]]:
        cursor = MySQLdb.cursors.SSCursor(self.connection)
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(BATCH_ROWS):
                yield [dict(zip(fields, row, strict=True)) for row in rows]
        except MySQLdb.Error as error:
            raise SourceUnavailable(_reason(error)) from error
        finally:
            cursor.close()

    def count_sessions(self, since: datetime | None) -> int | None:
        where, params = ("WHERE `Datetime start` >= %s", (since,)) if since else ("", ())
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {_table(self.source.sessions_table)} {where}", params)
            return cursor.fetchone()[0]

    def sessions(self, since: datetime | None) -> Iterator[list[dict]]:
        where, params = ("WHERE `Datetime start` >= %s", (since,)) if since else ("", ())
        sql, fields, params = self._select("sessions", where, params)
        yield from self._stream(sql, fields, params)

    def faults(self) -> Iterator[list[dict]]:
        sql, fields, params = self._select("faults")
        yield from self._stream(sql, fields, params)

    def vehicles(self) -> Iterator[list[dict]]:
        sql, fields, params = self._select("vehicles")
        yield from self._stream(sql, fields, params)

    def close(self) -> None:
        self.connection.close()


def test_connection(source, *, timeout: float = CONNECT_TIMEOUT_S) -> ConnectionReport:
    """What the "Test connection" button says: the tables with their row counts and the newest
    session, or the exact reason it failed — within `timeout` seconds."""
    started = time.monotonic()
    try:
        # The handshake gets all but a second of the time: the counts need that second.
        connection = connect(source, connect_timeout=max(1, timeout - 1))
    except SourceUnavailable as error:
        return ConnectionReport(ok=False, reason=str(error))
    report = ConnectionReport(ok=True)
    try:
        with connection.cursor() as cursor:
            left = max(1, int(timeout - (time.monotonic() - started)))
            # MariaDB's name for a statement's time limit (MySQL has none that covers COUNT(*)).
            with contextlib.suppress(MySQLdb.Error):
                cursor.execute(f"SET SESSION max_statement_time = {left}")
            for table in ("sessions", "faults", "vehicles"):
                name = getattr(source, f"{table}_table")
                cursor.execute(f"SELECT COUNT(*) FROM {_table(name)}")
                report.tables[name] = cursor.fetchone()[0]
            cursor.execute(f"SELECT MAX(`Datetime start`) FROM {_table(source.sessions_table)}")
            report.newest_session = cursor.fetchone()[0]
    except (MySQLdb.Error, SourceUnavailable) as error:
        reason = _reason(error) if isinstance(error, MySQLdb.Error) else str(error)
        return ConnectionReport(ok=False, reason=reason, tables=report.tables)
    finally:
        connection.close()
    return report
