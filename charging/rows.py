"""From a source's row (our field names, the source's values: text from a CSV, numbers and datetimes
from MySQL or XLSX) to the values we store, or the reason the row is refused.

A refused row is counted and reported with its ID and reason; it never stops the others."""

import math
import zoneinfo
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


# The columns of a stored session, in the order `session` returns them (after site and charge point).
SESSION_COLUMNS = (
    "external_id", "started_at", "ended_at", "local_date", "local_hour", "duration_s", "outcome", "is_ok",
    "error_type", "moment", "moment_group", "energy_kwh", "mean_power_kw", "max_power_kw", "soc_start",
    "soc_end", "evi_code", "downstream_code", "evi_step", "mac", "vehicle", "charge_900v", "warning",
)  # fmt: skip


def _soc(value, field: str) -> float | None:
    result = number(value, field)
    if result is not None and not 0 <= result <= 100:
        raise Refused(_("%(field)s: %(value)s is outside 0–100 %%") % {"field": field, "value": value})
    return result


def session(row: dict, *, zone: zoneinfo.ZoneInfo, vehicles: dict[str, str]) -> tuple[str, str, str, tuple]:
    """(site name, project, charge point name, values in SESSION_COLUMNS order), or Refused."""
    external_id = text(row.get("external_id"))
    if not external_id:
        raise Refused(_("ID is empty"))
    site = text(row.get("site"))
    charge_point = text(row.get("charge_point"))
    if not site:
        raise Refused(_("Site is empty"))
    if not charge_point:
        raise Refused(_("PDC is empty"))
    start = local_datetime(row.get("start"), "Datetime start")
    if start is None:
        raise Refused(_("Datetime start is empty"))
    end = local_datetime(row.get("end"), "Datetime end")
    outcome = integer(row.get("outcome"), "State of charge")
    if outcome not in (None, 0, 1):
        raise Refused(_("State of charge: %(value)s is neither 0 (good) nor 1 (error)") % {"value": outcome})
    energy = number(row.get("energy_kwh"), "Energy (Kwh)")
    if energy is not None and energy < 0:
        raise Refused(_("Energy (Kwh): %(value)s is negative") % {"value": energy})
    evi_code = integer(row.get("evi_code"), "EVI Error Code")
    downstream_code = integer(row.get("downstream_code"), "Downstream Code PC")
    step = integer(row.get("evi_step"), "EVI Status during error")
    started_at = to_utc(start, zone)
    ended_at = to_utc(end, zone) if end is not None else None
    if ended_at is not None:
        duration = max(0, int((ended_at - started_at).total_seconds()))  # an end before the start counts 0
    else:
        duration = max(0, integer(row.get("duration"), "duration") or 0)
    error_type = derivations.error_type(outcome=outcome, downstream_code=downstream_code, evi_code=evi_code)
    moment = derivations.moment(error_type=error_type, step=step)
    mac = text(row.get("mac")).upper()
    vehicle = derivations.vehicle_of(mac, vehicles) or text(row.get("vehicle"))
    flag_900v = integer(row.get("charge_900v"), "charge_900V")
    values = (
        external_id, started_at, ended_at, start.date(), start.hour, duration, outcome, derivations.is_ok(outcome),
        error_type, moment, derivations.moment_group(moment), energy, number(row.get("mean_power_kw"), "Mean Power"),
        number(row.get("max_power_kw"), "Max Power"), _soc(row.get("soc_start"), "SOC Start"),
        _soc(row.get("soc_end"), "SOC End"), evi_code, downstream_code, step, mac[:32], vehicle[:120],
        None if flag_900v is None else bool(flag_900v), text(row.get("warning"))[:255],
    )  # fmt: skip
    return site, text(row.get("project")), charge_point, values


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
