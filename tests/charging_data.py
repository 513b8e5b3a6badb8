"""Hand-built charging data in the customer's own shape (CHARGING.md's column names, spaces and
parentheses included), loaded through the real import: as CSV or XLSX files, or into a MariaDB.

    rows = [session("S1", start="2026-03-02 10:00", outcome=1, ds=8192, step=8), ...]
    charging_load(sessions=rows)        # a files source, imported in this transaction
"""

import csv
import io
from datetime import datetime, timedelta

from charging.sources import mysql_schema

SESSION_HEADER = mysql_schema.SESSION_COLUMNS + mysql_schema.SESSION_EXTRA_COLUMNS
FAULT_HEADER = mysql_schema.FAULT_COLUMNS
VEHICLE_HEADER = mysql_schema.VEHICLE_COLUMNS


def session(
    id: str,
    *,
    site: str = "CESSON",
    pdc: str = "PDC1",
    start: str = "2026-03-02 10:00:00",
    minutes: float | None = 30,
    end: str | None = None,
    outcome: int | None = 0,
    ds: int | None = 0,
    evi: int | None = 0,
    step: int | None = None,
    energy: float | None = 20.0,
    mean_power: float | None = 40.0,
    max_power: float | None = 60.0,
    soc_start: float | None = 20.0,
    soc_end: float | None = 80.0,
    mac: str | None = "AA:BB:CC:00:00:01",
    v900: int | None = 0,
    project: str = "Borne Express",
    vehicle: str | None = None,
    warning: str | None = None,
    duration: int | None = None,
    **raw,
) -> dict:
    """One `kpi_sessions` row. `end` defaults to `start` + `minutes`; `raw` overrides any column by
    its exact name (e.g. `**{"type_erreur": "Erreur_EVI"}` for a source's own, ignored, derivation)."""
    if end is None and minutes is not None and _is_date(start):
        end = (_parse(start) + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")
    row = {
        "ID": id, "Site": site, "Name Project": project, "PDC": pdc, "Datetime start": start,
        "Datetime end": end, "State of charge(0:good, 1:error)": outcome, "is_ok": None, "type_erreur": None,
        "moment": None, "moment_avancee": None, "Energy (Kwh)": energy, "Mean Power (Kw)": mean_power,
        "Max Power (Kw)": max_power, "SOC Start": soc_start, "SOC End": soc_end, "EVI Error Code": evi,
        "Downstream Code PC": ds, "EVI Status during error": step, "MAC Address": mac, "charge_900V": v900,
        "Vehicle": vehicle, "warning": warning, "duration": duration,
    }  # fmt: skip
    row.update(raw)
    return row


def fault(
    id: int,
    *,
    site: str = "CESSON",
    start: str = "2026-03-01 08:00:00",
    end: str | None = None,
    label: str = "Défaut isolement",
    eqp: str = "PDC1",
    bit: int | None = 3,
    field: str = "status_word",
) -> dict:
    return {"id": id, "site": site, "date_debut": start, "date_fin": end, "defaut": label, "eqp": eqp,
            "bit_position": bit, "field_name": field}  # fmt: skip


def vehicle(mac: str, name: str) -> dict:
    return {"MAC": mac, "Vehicle": name}


def _is_date(value) -> bool:
    try:
        _parse(value)
    except (TypeError, ValueError):
        return False
    return True


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def as_csv(rows: list[dict], header: list[str], *, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else row.get(column) for column in header])
    return out.getvalue().encode("utf-8")


def as_xlsx(rows: list[dict], header: list[str]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(row.get(column)) for column in header])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(value):
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and value[10] in " T":
        return _parse(value)  # a spreadsheet holds dates as dates
    return value


def files_of(*, sessions=None, faults=None, vehicles=None, kind: str = "csv") -> dict[str, tuple[str, bytes]]:
    """The uploads of an import: {table: (file name, content)}."""
    render = as_xlsx if kind == "xlsx" else as_csv
    files = {}
    for table, rows, header in (("sessions", sessions, SESSION_HEADER), ("faults", faults, FAULT_HEADER),
                                ("vehicles", vehicles, VEHICLE_HEADER)):  # fmt: skip
        if rows is not None:
            files[table] = (f"{table}.{kind}", render(rows, header))
    return files


def files_source(name: str = "Exports", **fields):
    from charging.models import ChargingSource, SourceKind

    source, _created = ChargingSource.objects.get_or_create(
        name=name, defaults={"kind": SourceKind.FILES, "time_zone": "Europe/Paris", **fields}
    )
    return source


def charging_load(*, sessions=None, faults=None, vehicles=None, source=None, kind: str = "csv", full: bool = False):
    """Import these rows through the real import path (files source); returns the ImportRun."""
    from charging.models import ImportTrigger
    from charging.services import charging_import_now

    return charging_import_now(
        source=source or files_source(),
        trigger=ImportTrigger.COMMAND,
        full=full,
        files=files_of(sessions=sessions, faults=faults, vehicles=vehicles, kind=kind),
    )


def mysql_insert(connection, *, sessions=(), faults=(), vehicles=(), tables=None) -> None:
    """Insert (or replace) rows into a source database built with `mysql_schema.create_tables`."""
    tables = tables or {"sessions": "kpi_sessions", "faults": "kpi_defauts_log", "vehicles": "mac_lookup"}
    with connection.cursor() as cursor:
        for table, rows, header in (("sessions", sessions, SESSION_HEADER), ("faults", faults, FAULT_HEADER),
                                    ("vehicles", vehicles, VEHICLE_HEADER)):  # fmt: skip
            if not rows:
                continue
            listed = ", ".join(f"`{c}`" for c in header)
            marks = ", ".join(["%s"] * len(header))
            cursor.executemany(
                f"REPLACE INTO `{tables[table]}` ({listed}) VALUES ({marks})",
                [[row.get(c) for c in header] for row in rows],
            )
    connection.commit()


def run_analysis(name: str, **params) -> dict:
    """An analysis's answer (its JSON) under the filters `params` name, in the current schema, as
    the API would compute it."""
    from charging import selectors
    from charging.analyses import analysis
    from charging.filters import parse_filters

    module = analysis(name)
    filters = parse_filters(params, bounds=selectors.data_bounds(), site_ids_by_code=selectors.site_ids_by_code(),
                            extra=module.PARAMS)  # fmt: skip
    return module.run(filters).as_json()
