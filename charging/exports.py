"""CSV and XLSX exports of the charging tables: any table of an analysis's Result, and the session
list (streamed). The file writing is the platform's (`core.exports`: formula-safe CSV, constant
memory XlsxWriter); this module only turns our tables into its shape."""

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.db.models import F
from django.utils.translation import gettext as _

from charging import explain, selectors
from charging.analyses.base import Table
from charging.analyses.sql import site_labels
from core import exports

FORMATS = ("csv", "xlsx")

# Our column kinds → telemetry's (text | number | int | datetime).
_KINDS = {"int": "int", "float": "number", "pct": "number", "datetime": "datetime"}


def _kind(column, rows) -> str:
    """Telemetry's kind for a column; a datetime column is one only when it holds aware datetimes
    (an analysis may give local times already written out: those stay text)."""
    kind = _KINDS.get(column.kind, "text")
    if kind == "datetime":
        values = [row.get(column.key) for row in rows if row.get(column.key) is not None]
        if not all(isinstance(v, datetime) and v.tzinfo is not None for v in values):
            return "text"
    return kind


def _cell(value, kind: str):
    if value is None:
        return None
    if isinstance(value, Decimal):  # a SQL sum or average
        value = float(value)
    if kind == "datetime" and isinstance(value, datetime):
        return value
    if kind in ("int", "number") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def export_table(table: Table, *, subtitle: str = "", time_zone: str = "UTC") -> exports.Table:
    """An analysis table as an export table: one column per Column, in order; percentages as
    numbers (the heading says %)."""
    typed = [(column, _kind(column, table.rows)) for column in table.columns]
    columns = [exports.Column(str(column.key), str(column.label), kind=kind) for column, kind in typed]
    rows = ([_cell(row.get(column.key), kind) for column, kind in typed] for row in table.rows)
    return exports.Table(title=str(table.title), columns=columns, rows=rows, subtitle=subtitle, time_zone=time_zone)


def response(table: exports.Table, fmt: str, filename: str, *, request=None):
    """The download: CSV streamed as rows are read, XLSX built in constant memory."""
    return exports.download(table, fmt, filename, request=request)


def session_columns() -> list[exports.Column]:
    C = exports.Column
    return [
        C("id", _("ID")), C("site", _("Site")), C("project", _("Project")), C("charge_point", _("Charge point")),
        C("start", _("Start"), kind="datetime"), C("end", _("End"), kind="datetime"),
        C("duration_s", _("Duration (s)"), kind="int"), C("outcome", _("Outcome (0 good, 1 error)"), kind="int"),
        C("is_ok", _("OK")), C("error_type", _("Error type")), C("moment", _("Moment")),
        C("moment_group", _("Advanced moment")), C("energy_kwh", _("Energy (kWh)"), kind="number"),
        C("mean_power_kw", _("Mean power (kW)"), kind="number"), C("max_power_kw", _("Max power (kW)"), kind="number"),
        C("soc_start", _("SOC start (%)"), kind="number"), C("soc_end", _("SOC end (%)"), kind="number"),
        C("evi_code", _("EVI error code"), kind="int"), C("downstream_code", _("Downstream code"), kind="int"),
        C("evi_step", _("EVI step during error"), kind="int"), C("mac", _("MAC address")), C("vehicle", _("Vehicle")),
        C("charge_900v", _("900 V charge")), C("warning", _("Warnings")), C("derivation", _("Derivation")),
    ]  # fmt: skip


def _yes_no(value) -> str:
    return "" if value is None else (_("yes") if value else _("no"))


SESSION_VALUES = (
    "external_id", "site_id", "cp_project", "cp_name", "started_at", "ended_at", "duration_s", "outcome", "is_ok",
    "error_type", "moment", "moment_group", "energy_kwh", "mean_power_kw", "max_power_kw", "soc_start", "soc_end",
    "evi_code", "downstream_code", "evi_step", "mac", "vehicle", "charge_900v", "warning", "source_id", "pk",
)  # fmt: skip


def session_values(sessions):
    """The sessions of a queryset as light rows (attribute access, no model instances): what the
    list and its exports read, a million of them included."""
    return sessions.annotate(cp_name=F("charge_point__name"), cp_project=F("charge_point__project")).values_list(
        *SESSION_VALUES, named=True
    )


class Derivations(dict):
    """`derivation()` per distinct (outcome, codes, step): a few hundred texts for a million rows."""

    def __missing__(self, key):
        self[key] = text = explain.derivation(_Raw(*key))
        return text


class _Raw:
    def __init__(self, outcome, downstream_code, evi_code, evi_step):
        self.outcome, self.downstream_code, self.evi_code, self.evi_step = outcome, downstream_code, evi_code, evi_step


def session_row(session, site_names: dict[int, str], derivations: Derivations | None = None) -> list:
    """One session (a `session_values` row) as the list and its exports show it, in
    `session_columns()` order."""
    derivations = Derivations() if derivations is None else derivations
    return [
        session.external_id, site_names.get(session.site_id, ""), session.cp_project, session.cp_name,
        session.started_at, session.ended_at, session.duration_s, session.outcome, _yes_no(session.is_ok),
        session.error_type, session.moment, session.moment_group, session.energy_kwh, session.mean_power_kw,
        session.max_power_kw, session.soc_start, session.soc_end, session.evi_code, session.downstream_code,
        session.evi_step, session.mac, session.vehicle, _yes_no(session.charge_900v), session.warning,
        derivations[(session.outcome, session.downstream_code, session.evi_code, session.evi_step)],
    ]  # fmt: skip


def sessions_table(sessions: Iterable, site_names: dict[int, str], *, subtitle: str = "", time_zone: str = "UTC"):
    """`sessions`: `session_values` rows."""
    derivations = Derivations()

    def rows() -> Iterator[list]:
        for session in sessions:
            yield session_row(session, site_names, derivations)

    return exports.Table(
        title=_("Charging sessions"), columns=session_columns(), rows=rows(), subtitle=subtitle, time_zone=time_zone
    )


def sessions_download(sessions, filters, fmt: str, *, request=None):
    """The file of a session list (`selectors.sessions_list`), for the portal and the API alike:
    streamed in chunks, times in the source's zone."""
    rows = session_values(sessions).iterator(chunk_size=5000)
    names = {pk: label["site"] for pk, label in site_labels(None).items()}
    subtitle = _("Sessions · %(d1)s → %(d2)s") % {"d1": filters.d1, "d2": filters.d2}
    table = sessions_table(rows, names, subtitle=subtitle, time_zone=selectors.time_zone_name())
    return response(table, fmt, f"charging-sessions-{filters.d1:%Y%m%d}-{filters.d2:%Y%m%d}", request=request)
