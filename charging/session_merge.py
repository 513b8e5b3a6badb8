"""A batch of sessions into `charging_chargingsession`, derived and checked in PostgreSQL.

The rows (typed tuples in `charging.rows.SESSION_FIELDS` order) are copied as they are into a
temporary table with a binary COPY; then, set-based:
  1. the rows that cannot be stored are deleted from it, each returned with its ID and the first check
     it fails (worded in Python, `charging.rows.session_reason`; a value a reader could not read at
     all, "le 2 mars" for a date, was refused before, with its own reason);
  2. the batch's few distinct (site, charge point) names are mapped to our ids through a small
     temporary table filled from Python (sites made by `sites.services`, charge points by the import);
  3. one INSERT … SELECT computes every derived field (`charging.derivations`' SQL twins, the UTC
     instants from the local ones, the duration, the vehicle by MAC) and merges: ON CONFLICT DO UPDATE
     only where something changed, so an unchanged row is not rewritten; it answers (created, updated).

Local times are the source's wall clock: an hour that happens twice (autumn) is taken the first time,
one that does not exist (spring) lands just after the change, as `charging.rows.to_utc` does.

Where the time goes (bench/bench_charging.py): most of it is PostgreSQL storing the row — the heap,
the table's ten indexes and, at commit, its three foreign keys checked row by row — not deriving it
(~5 µs a row) nor reading it."""

from collections.abc import Callable

from psycopg import DatabaseError

from charging import derivations, rows

STAGE = "_import_session_rows"
POINTS = "_import_session_points"
_PG_TYPE = {rows.TEXT: "text", rows.DATETIME: "timestamp", rows.INTEGER: "int8", rows.NUMBER: "float8"}
STAGE_TYPES = [_PG_TYPE[rows.SESSION_KINDS[name]] for name in rows.SESSION_FIELDS]

# The ASCII white space Python's str.strip() removes, and the no-break space a spreadsheet leaves.
_SPACES = "E' \\t\\n\\r\\f\\v\\u00a0'"


def _trim(expression: str) -> str:
    return f"coalesce(btrim({expression}, {_SPACES}), '')"


def _local_to_utc(local: str, zone: str) -> str:
    """`local` (timestamp) as the instant (timestamptz) the source's clock showed. PostgreSQL takes an
    hour that happens twice the second time: one hour earlier is the first, when it reads the same."""
    at, first = f"({local} AT TIME ZONE {zone})", f"({local} AT TIME ZONE {zone} - interval '1 hour')"
    return f"(CASE WHEN {first} AT TIME ZONE {zone} = {local} THEN {first} ELSE {at} END)"


# Every check, in the order a row's reason is chosen (the first one it fails); `value` the value shown.
_CHECKS = [
    ("id_empty", f"{_trim('external_id')} = ''", "NULL"),
    ("id_long", f"length({_trim('external_id')}) > 64", _trim("external_id")),
    ("site_empty", f"{_trim('site')} = ''", "NULL"),
    ("site_long", f"length({_trim('site')}) > 120", _trim("site")),
    ("pdc_empty", f"{_trim('charge_point')} = ''", "NULL"),
    ("pdc_long", f"length({_trim('charge_point')}) > 64", _trim("charge_point")),
    ("start_empty", "start IS NULL", "NULL"),
    ("outcome", "outcome NOT IN (0, 1)", "outcome::text"),
    ("energy_kwh", "energy_kwh < 0", "energy_kwh::text"),
    ("soc_start", "NOT soc_start BETWEEN 0 AND 100", "soc_start::text"),
    ("soc_end", "NOT soc_end BETWEEN 0 AND 100", "soc_end::text"),
    *[(name, f"NOT {name} BETWEEN {-rows.INT32} AND {rows.INT32 - 1}", f"{name}::text")
      for name in ("evi_code", "downstream_code", "evi_step", "duration")],
]  # fmt: skip
_REFUSED = (
    f"DELETE FROM {STAGE} WHERE " + " OR ".join(f"coalesce({test}, false)" for _c, test, _v in _CHECKS)
    + f" RETURNING {_trim('external_id')}, CASE "
    + " ".join(f"WHEN coalesce({test}, false) THEN '{code}'" for code, test, _v in _CHECKS)
    + " END, CASE " + " ".join(f"WHEN coalesce({test}, false) THEN {value}" for _c, test, value in _CHECKS) + " END"
)  # fmt: skip

# The batch's (site, charge point) as written (the join on them is then a plain equality), and as meant.
_NAMES = (f"SELECT site, charge_point, {_trim('site')}, {_trim('charge_point')}, min({_trim('project')}) "
          f"FROM {STAGE} GROUP BY 1, 2")  # fmt: skip

# The stored columns, each with the SQL that gives it from the staged row `s` (and the lateral helpers).
_DERIVED = {
    "source_id": "%(source)s",
    "site_id": "p.site_id",
    "charge_point_id": "p.point_id",
    "external_id": _trim("s.external_id"),
    "started_at": "u.started_at",
    "ended_at": "u.ended_at",
    "local_date": "s.start::date",
    "local_hour": "extract(hour FROM s.start)::smallint",
    "duration_s": "(CASE WHEN u.ended_at IS NOT NULL THEN greatest(0, trunc(extract(epoch FROM u.ended_at - "
    "u.started_at)))::int ELSE greatest(0, coalesce(s.duration, 0))::int END)",
    "outcome": "s.outcome::smallint",
    "is_ok": derivations.sql_is_ok("s.outcome"),
    "error_type": "e.error_type",
    "moment": "m.moment",
    "moment_group": derivations.sql_moment_group("m.moment"),
    "energy_kwh": "s.energy_kwh",
    "mean_power_kw": "s.mean_power_kw",
    "max_power_kw": "s.max_power_kw",
    "soc_start": "s.soc_start",
    "soc_end": "s.soc_end",
    "evi_code": "s.evi_code::int",
    "downstream_code": "s.downstream_code::int",
    "evi_step": "s.evi_step::int",
    "mac": "left(upper(" + _trim("s.mac") + "), 32)",
    "vehicle": "left(coalesce(v.vehicle, " + _trim("s.vehicle") + "), 120)",
    "charge_900v": "(s.charge_900v <> 0)",
    "warning": "left(" + _trim("s.warning") + ", 255)",
}
COLUMNS = tuple(_DERIVED)
assert COLUMNS[3:] == rows.SESSION_COLUMNS  # the model's columns, all of them


def _insert() -> str:
    changed = [c for c in COLUMNS if c not in ("source_id", "external_id")]
    return f"""
WITH merged AS (
    INSERT INTO charging_chargingsession AS t ({", ".join(COLUMNS)})
    SELECT {", ".join(_DERIVED.values())}
    FROM {STAGE} s
    JOIN {POINTS} p ON p.site = s.site AND p.point = s.charge_point
    CROSS JOIN LATERAL (SELECT {_local_to_utc("s.start", "%(zone)s")} AS started_at,
                               {_local_to_utc("s.end", "%(zone)s")} AS ended_at) u
    CROSS JOIN LATERAL (SELECT {
        derivations.sql_error_type(outcome="s.outcome", downstream_code="s.downstream_code", evi_code="s.evi_code")
    } AS error_type) e
    CROSS JOIN LATERAL (SELECT {derivations.sql_moment(error_type="e.error_type", step="s.evi_step")} AS moment) m
    LEFT JOIN (
        -- The vehicle of each of the batch's MACs (a few thousand: a vehicle charges again and again).
        SELECT d.mac, coalesce(nullif(v1.vehicle, ''), nullif(v2.vehicle, ''), nullif(v3.vehicle, '')) AS vehicle
        FROM (SELECT mac, {derivations.sql_mac_digits("mac")} AS digits
              FROM (SELECT DISTINCT mac FROM {STAGE}) macs OFFSET 0) d  -- OFFSET 0: the digits once per MAC
        LEFT JOIN charging_vehiclemac v1 ON v1.source_id = %(source)s AND v1.prefix = d.digits
        LEFT JOIN charging_vehiclemac v2 ON v2.source_id = %(source)s AND v2.prefix = left(d.digits, 6)
        LEFT JOIN charging_vehiclemac v3 ON v3.source_id = %(source)s AND v3.prefix = left(d.digits, 4)
    ) v ON v.mac = s.mac
    ON CONFLICT (source_id, external_id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in changed)}
    WHERE ({", ".join(f"t.{c}" for c in changed)}) IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in changed)})
    RETURNING (xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM merged"""


INSERT = _insert()


# For this transaction only: the batch is one big statement, planned without statistics on the
# temporary tables (nor, often, on a source's fresh MAC table) — no JIT (it compiles for longer than
# the statement runs), and every join an equality one, a hash join in memory (a nested loop once
# took 6 s instead of 0.1 for 20,000 rows);
# and the commit does not wait for the disk: a batch lost in a crash is read again by the next import.
_SETTINGS = ("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL enable_mergejoin = off; "
             "SET LOCAL enable_nestloop = off; SET LOCAL synchronous_commit = off")  # fmt: skip
TEMP_BUFFERS = "64MB"


def reserve_temp_buffers(cursor) -> None:
    """Room for a batch's temporary table in memory (8 MB by default: it would go to disk), where the
    connection has not used a temporary table yet (PostgreSQL refuses the change after that)."""
    cursor.execute(f"SELECT to_regclass('pg_temp.{STAGE}') IS NULL")
    if cursor.fetchone()[0]:
        cursor.execute("SAVEPOINT temp_buffers")
        try:
            cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
        except DatabaseError:
            cursor.execute("ROLLBACK TO SAVEPOINT temp_buffers")
        cursor.execute("RELEASE SAVEPOINT temp_buffers")


def prepare(cursor) -> None:
    """The two temporary tables, empty (made the first time in this connection)."""
    cursor.execute(_SETTINGS)
    listed = ", ".join(f'"{name}" {kind}' for name, kind in zip(rows.SESSION_FIELDS, STAGE_TYPES, strict=True))
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({listed}) ON COMMIT DELETE ROWS")
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {POINTS} (site text, point text, site_id int, point_id int) "
                   "ON COMMIT DELETE ROWS")  # fmt: skip
    cursor.execute(f"TRUNCATE {STAGE}, {POINTS}")  # within an outer transaction, the last batch is still there


def merge(cursor, batch: list[tuple], *, source_id: int, zone: str,
          place: Callable[[str, str, str], tuple[int, int]]) -> tuple[int, int, list[tuple[str, str]]]:  # fmt: skip
    """(created, updated, the (ID, reason) of each refused row) for `batch`, in the caller's transaction.
    `place(site, charge point, project)` gives (site id, charge point id), making them if need be."""
    prepare(cursor)
    with cursor.copy(f"COPY {STAGE} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(STAGE_TYPES)
        for row in batch:
            copy.write_row(row)
    cursor.execute(_REFUSED)
    refused = [(identifier, rows.session_reason(code, value)) for identifier, code, value in cursor.fetchall()]
    cursor.execute(_NAMES)
    places = [(site, point, *place(name, point_name, project))
              for site, point, name, point_name, project in cursor.fetchall()]  # fmt: skip
    with cursor.copy(f"COPY {POINTS} FROM STDIN") as copy:
        for row in places:
            copy.write_row(row)
    cursor.execute(INSERT, {"source": source_id, "zone": zone})
    created, updated = cursor.fetchone()
    return created, updated, refused
