"""Reading a source's values: text from a CSV, numbers and datetimes from MySQL or XLSX.

Sessions: each value read as the kind its field needs (`SESSION_FIELDS`, `typed_sessions`), the
rest — derivations and checks — done in PostgreSQL by `charging.session_merge`, whose refusals are
worded here (`session_reason`). Faults and vehicles (a few hundred rows): from a row with our field
names to the values we store, or the reason the row is refused.

A refused row is counted and reported with its ID and reason; it never stops the others."""

import math
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.utils.translation import gettext as _

from charging import derivations

_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
                 "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d", "%d/%m/%Y")  # fmt: skip


class Refused(ValueError):
    """A value that makes its row unusable; the message is the reason shown to the operator."""


@dataclass(frozen=True)
class Reject:
    table: str
    id: str
    reason: str

    def as_json(self) -> dict:
        return {"table": self.table, "id": self.id, "reason": self.reason}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))  # fmt: skip


def text(value) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's "12" comes back as 12.0
    return str(value).strip()


def number(value, field: str) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        raise Refused(_("%(field)s: “%(value)s” is not a number") % {"field": field, "value": value})


def integer(value, field: str) -> int | None:
    result = number(value, field)
    if result is None:
        return None
    if not result.is_integer():
        raise Refused(_("%(field)s: “%(value)s” is not a whole number") % {"field": field, "value": value})
    return int(result)


def local_datetime(value, field: str) -> datetime | None:
    """A naive local date and time, from a datetime (MySQL, XLSX) or text in the usual formats."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    raw = str(value).strip()
    try:
        # ISO text (every export we know): parsed in C, ~6x faster than the strptime loop below, with
        # the same result that loop's ISO patterns and its final fromisoformat would give.
        return datetime.fromisoformat(raw).replace(tzinfo=None)
    except ValueError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, pattern)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=None)
    except ValueError:
        raise Refused(_("%(field)s: “%(value)s” is not a date and time") % {"field": field, "value": raw})


def to_utc(local: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The source's local time in UTC. An hour that happens twice (autumn) is taken the first time;
    one that does not exist (spring) lands just after the change, as the clock would show it."""
    return local.replace(tzinfo=zone).astimezone(UTC)


# The columns of a stored session, in the order the import's INSERT lists them (after site and charge point).
SESSION_COLUMNS = (
    "external_id", "started_at", "ended_at", "local_date", "local_hour", "duration_s", "outcome", "is_ok",
    "error_type", "moment", "moment_group", "energy_kwh", "mean_power_kw", "max_power_kw", "soc_start",
    "soc_end", "evi_code", "downstream_code", "evi_step", "mac", "vehicle", "charge_900v", "warning",
)  # fmt: skip

# A session as every reader yields it: one tuple per row, these fields in this order, each value of its
# kind (str, a naive local datetime, int or float) or None. What the row means is derived from them in
# PostgreSQL (`charging.importing`); only reading a text as a number or a date happens here.
SESSION_FIELDS = (
    "external_id", "site", "project", "charge_point", "start", "end", "outcome", "energy_kwh", "mean_power_kw",
    "max_power_kw", "soc_start", "soc_end", "evi_code", "downstream_code", "evi_step", "mac", "charge_900v",
    "vehicle", "warning", "duration",
)  # fmt: skip
TEXT, DATETIME, INTEGER, NUMBER = "text", "datetime", "integer", "number"
SESSION_KINDS = {
    "external_id": TEXT, "site": TEXT, "project": TEXT, "charge_point": TEXT, "start": DATETIME, "end": DATETIME,
    "outcome": INTEGER, "energy_kwh": NUMBER, "mean_power_kw": NUMBER, "max_power_kw": NUMBER, "soc_start": NUMBER,
    "soc_end": NUMBER, "evi_code": INTEGER, "downstream_code": INTEGER, "evi_step": INTEGER, "mac": TEXT,
    "charge_900v": INTEGER, "vehicle": TEXT, "warning": TEXT, "duration": INTEGER,
}  # fmt: skip
# The field's name in the reasons shown to the operator (the customer's column, shortened as they know it).
SESSION_LABELS = {
    "start": "Datetime start", "end": "Datetime end", "outcome": "State of charge", "energy_kwh": "Energy (Kwh)",
    "mean_power_kw": "Mean Power", "max_power_kw": "Max Power", "soc_start": "SOC Start", "soc_end": "SOC End",
    "evi_code": "EVI Error Code", "downstream_code": "Downstream Code PC", "evi_step": "EVI Status during error",
    "charge_900v": "charge_900V", "duration": "duration",
}  # fmt: skip
INT32 = 2**31


def _integer32(value, field: str) -> int | None:
    result = integer(value, field)
    if result is not None and not -INT32 <= result < INT32:
        raise Refused(_("%(field)s: %(value)s is out of range") % {"field": field, "value": result})
    return result


def session_converter(field: str) -> Callable[[object], object]:
    """Reads one field of a session from a text (a CSV), or a spreadsheet's or database's own value."""
    kind, label = SESSION_KINDS[field], SESSION_LABELS.get(field, field)
    if kind == TEXT:
        return text
    if kind == DATETIME:
        return lambda value: local_datetime(value, label)
    if kind == INTEGER:
        return lambda value: _integer32(value, label)
    return lambda value: number(value, label)


def typed_sessions(rows: list, converters: list) -> tuple[list[tuple], list[tuple[str, str]]]:
    """(the rows with each value read by its converter — None: taken as it is —, the (ID, reason) of
    each row a value of which cannot be read). `rows` as they are when no field needs reading."""
    if all(convert is None for convert in converters):
        return rows, []
    read, refused = [], []
    pairs = list(enumerate(converters))
    for row in rows:
        try:
            read.append(tuple(row[i] if convert is None else convert(row[i]) for i, convert in pairs))
        except Refused as reason:
            refused.append((text(row[0]), str(reason)))
    return read, refused


def session_reason(code: str, value) -> str:
    """The reason shown for a row the import's checks in SQL refused (`code`, the value concerned)."""
    if code == "id_empty":
        return _("ID is empty")
    if code == "site_empty":
        return _("Site is empty")
    if code == "pdc_empty":
        return _("PDC is empty")
    if code == "start_empty":
        return _("Datetime start is empty")
    if code == "outcome":
        return _("State of charge: %(value)s is neither 0 (good) nor 1 (error)") % {"value": int(value)}
    if code == "energy_kwh":
        return _("Energy (Kwh): %(value)s is negative") % {"value": float(value)}
    if code in ("soc_start", "soc_end"):
        return _("%(field)s: %(value)s is outside 0–100 %%") % {"field": SESSION_LABELS[code], "value": float(value)}
    if code in ("id_long", "site_long", "pdc_long"):
        field = {"id_long": "ID", "site_long": "Site", "pdc_long": "PDC"}[code]
        return _("%(field)s: “%(value)s” is longer than %(max)s characters") % {
            "field": field, "value": value, "max": 120 if code == "site_long" else 64}  # fmt: skip
    return _("%(field)s: %(value)s is out of range") % {"field": SESSION_LABELS[code], "value": value}


FAULT_COLUMNS = ("external_id", "started_at", "ended_at", "label", "equipment", "bit_position", "field_name")


def fault(row: dict, *, zone: zoneinfo.ZoneInfo) -> tuple[str, tuple]:
    """(site name, values in FAULT_COLUMNS order), or Refused."""
    external_id = text(row.get("external_id"))
    if not external_id:
        raise Refused(_("id is empty"))
    site = text(row.get("site"))
    if not site:
        raise Refused(_("site is empty"))
    start = local_datetime(row.get("start"), "date_debut")
    if start is None:
        raise Refused(_("date_debut is empty"))
    end = local_datetime(row.get("end"), "date_fin")
    values = (
        external_id, to_utc(start, zone), to_utc(end, zone) if end else None, text(row.get("label"))[:255],
        text(row.get("equipment"))[:120], integer(row.get("bit_position"), "bit_position"),
        text(row.get("field_name"))[:120],
    )  # fmt: skip
    return site, values


def vehicle(row: dict) -> tuple[str, str]:
    """(MAC or prefix as hex digits, vehicle), or Refused."""
    prefix = derivations.mac_digits(text(row.get("mac")))
    name = text(row.get("vehicle"))
    if len(prefix) < 4 or len(prefix) > 12:
        raise Refused(_("MAC: “%(value)s” is neither a MAC address nor a prefix of one") % {"value": row.get("mac")})
    if not name:
        raise Refused(_("Vehicle is empty"))
    return prefix, name[:120]
