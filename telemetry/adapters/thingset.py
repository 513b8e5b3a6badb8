"""ThingSet (Libre Solar BMS and chargers): text-mode reports and responses, v0.5 and v0.6, or JSON.

A body may hold several lines:
- reports `#<path> <json>` — v0.6 `#m {"t_s": …, "Bat_V": …}`, v0.5 `#Bat {"rMeas_V": …}` or `#_pub/…`;
- responses to a fetch `:85 {json}` (v0.6) or `:85 Content. {json}` (v0.5); error statuses
  (`:A4 Not Found.`, `:A3 Forbidden.`) are refused, naming the line;
- or the body is plain JSON: one object (groups nested or flat) or a list of them.

Item names carry their kind in a first lower-case letter (`r` measurement, `c` constant, `w`
writable, `s` stored, `t` timestamp…) in v0.5 and their unit after the last underscore in both
versions. The mapping reads (group, name, unit): a voltage in the `Bat`/`Pack` group or named
`Bat_V` is the pack voltage, `Cells_V` (array) or `Cell3_V` the cell voltages, and so on. Unknown
items are ignored. The Libre Solar BMS reports no SOH: it stays empty.
"""

import re

from core.decoding import ROOT, BadInput, decode_json
from core.moments import parse_moment
from telemetry.adapters import AdapterError, Report

UNIT_FACTORS = {"V": 1.0, "mV": 0.001, "A": 1.0, "mA": 0.001, "W": 1.0, "kW": 1000.0, "degC": 1.0, "pct": 1.0,
                "s": 1.0, "Ah": 1.0, "Wh": 1.0}  # fmt: skip
PACK_WORDS = {"bat", "pack", "battery", "meas", "batt"}
STACK_WORDS = {"stack"}
CELL_NUMBERED = re.compile(r"^cells?(\d+)$", re.IGNORECASE)
# The firmware's BmsState enum (bms-firmware: off, charging, discharging, normal, shutdown).
BMS_STATES = {0: "off", 1: "charging", 2: "discharging", 3: "normal", 4: "shutdown"}
ERROR_STATUS = re.compile(r"^:(A[0-9A-F]|C[0-9A-F])\b", re.IGNORECASE)


def _split(name: str) -> tuple[str, str]:
    """`rBat_V` → ("Bat", "V"); `SOC_pct` → ("SOC", "pct"); `ErrorFlags` → ("ErrorFlags", "")."""
    if len(name) > 1 and name[0] in "rcwstxe" and name[1].isupper():
        name = name[1:]
    base, sep, unit = name.rpartition("_")
    if sep and unit in UNIT_FACTORS:
        return base, unit
    return name, ""


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdapterError(field, "Expected a number.")
    return float(value)


def _walk(data: dict, group: str, found: dict, prefix: str = "") -> None:
    for name, value in data.items():
        field = f"{prefix}{name}"
        if isinstance(value, dict):
            _walk(value, name, found, prefix=f"{field}.")
            continue
        base, unit = _split(name)
        lower, group_lower = base.lower(), group.lower().lstrip("_")
        factor = UNIT_FACTORS.get(unit, 1.0)
        numbered = CELL_NUMBERED.match(base)
        if unit == "s" and lower in ("t", "timestamp", "time"):
            try:
                found["time"] = parse_moment(_number(value, field), unit="s")
            except ValueError as exc:
                raise AdapterError(field, str(exc)) from None
        elif lower in ("nodeid", "node_id", "deviceid"):
            found["device"] = str(value)
        elif numbered and unit in ("V", "mV"):
            found.setdefault("cells_v", {})[int(numbered[1])] = _number(value, field) * factor
        elif numbered and unit == "degC":
            found.setdefault("cells_t", {})[int(numbered[1])] = _number(value, field) * factor
        elif lower in ("cells", "cell") and isinstance(value, list):
            items = [_number(item, field) * factor for item in value]
            if unit in ("V", "mV"):
                found["cell_voltages"] = items
            elif unit == "degC":
                found["cell_temperatures"] = items
        elif unit in ("V", "mV") and (
            lower in PACK_WORDS or (group_lower in PACK_WORDS and lower in ("", "meas", "v"))
        ):
            found["voltage"] = _number(value, field) * factor
        elif unit in ("V", "mV") and lower in STACK_WORDS:
            found["stack_voltage"] = _number(value, field) * factor
        elif unit in ("V", "mV") and lower in ("cellmin", "mincell", "cellsmin"):
            found["cell_voltage_min"] = _number(value, field) * factor
        elif unit in ("V", "mV") and lower in ("cellmax", "maxcell", "cellsmax"):
            found["cell_voltage_max"] = _number(value, field) * factor
        elif unit in ("A", "mA") and (lower in PACK_WORDS or group_lower in PACK_WORDS):
            found["current"] = _number(value, field) * factor
        elif unit in ("W", "kW") and (lower in PACK_WORDS or group_lower in PACK_WORDS or lower == "power"):
            found["power"] = _number(value, field) * factor
        elif unit == "degC" and lower in PACK_WORDS | {"ambient", "temp", "temperature"}:
            found["temperature"] = _number(value, field)
        elif unit == "pct" and lower == "soc":
            found["soc"] = _number(value, field)
        elif unit == "pct" and lower == "soh":
            found["soh"] = _number(value, field)
        elif lower in ("errorflags", "errors", "error") and not unit:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise AdapterError(field, "Expected the error flags as a non-negative integer bit field.")
            found["error_flags"] = value
        elif lower in ("bmsstate", "state") and not unit:
            if isinstance(value, int) and not isinstance(value, bool):
                found["state"] = BMS_STATES.get(value, str(value))
            elif isinstance(value, str) and value.strip():
                found["state"] = value.strip().lower()[:32]


def _report(found: dict, default_device: str | None) -> Report | None:
    values = {
        key: found[key]
        for key in (
            "voltage",
            "current",
            "power",
            "temperature",
            "soc",
            "soh",
            "cell_voltages",
            "cell_temperatures",
            "cell_voltage_min",
            "cell_voltage_max",
            "error_flags",
            "state",
        )
        if key in found
    }
    for source, metric in (("cells_v", "cell_voltages"), ("cells_t", "cell_temperatures")):
        numbered = found.get(source)
        if numbered and metric not in values:
            values[metric] = [numbered[index] for index in sorted(numbered)]
    if "voltage" not in values and "stack_voltage" in found:
        values["voltage"] = found["stack_voltage"]
    if "temperature" not in values and values.get("cell_temperatures"):
        values["temperature"] = max(values["cell_temperatures"])
    if not values:
        return None
    return Report(values=values, time=found.get("time"), device=found.get("device") or default_device)


def _load(text: str, where: str):
    try:
        return decode_json(text)
    except BadInput as exc:  # a value inside is named by its path, like the items the mapping refuses
        raise AdapterError(where if exc.field == ROOT else exc.field, exc.reason) from None


def parse_thingset(body: str, *, default_device: str | None = None) -> list[Report]:
    text = body.strip()
    reports: list[Report] = []
    if not text:
        raise AdapterError("body", "Empty: send ThingSet reports (#…), responses (:85 …) or JSON.")
    if text[0] in "{[":
        data = _load(text, "body")
        for index, item in enumerate(data if isinstance(data, list) else [data]):
            if not isinstance(item, dict):
                raise AdapterError(f"body[{index}]", "Expected a JSON object of ThingSet items.")
            found: dict = {}
            _walk(item, "", found)
            if report := _report(found, default_device):
                reports.append(report)
    else:
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            where = f"line {number}"
            if line[0] == "#":
                path, _sep, payload = line[1:].partition(" ")
                if not payload.strip():
                    raise AdapterError(where, "A report is “#<path> <json>”: the JSON is missing.")
                data = _load(payload, where)
                group = path.strip("/").split("/")[-1] if path else ""
                device = path.strip("/").split("/")[0] if path.count("/") >= 1 and not path.startswith("_") else None
            elif line[0] == ":":
                if ERROR_STATUS.match(line):
                    raise AdapterError(where, f"The device answered with an error status: “{line[:60]}”.")
                brace = line.find("{")
                if brace < 0:
                    continue  # a status without content (":84 Changed.")
                data, group, device = _load(line[brace:], where), "", None
            elif line[0] in "?=+-!@":
                raise AdapterError(where, "A request carries no measurements: send reports (#…) or responses (:85 …).")
            else:
                raise AdapterError(where, f"Unknown ThingSet line start “{line[0]}”.")
            if not isinstance(data, dict):
                raise AdapterError(where, "Expected a JSON object after the path.")
            found = {}
            _walk(data, group, found)
            if report := _report(found, device or default_device):
                reports.append(report)
    if not reports:
        raise AdapterError("body", "No measurement found: check the item names (e.g. Bat_V, Cells_V, SOC_pct).")
    return _merge_same_moment(reports)


def _merge_same_moment(reports: list[Report]) -> list[Report]:
    """Groups reported together (`#Bat …` then `#Cells …`) at one moment are one reading."""
    merged: dict = {}
    for report in reports:
        key = (report.time, report.device)
        if key in merged:
            merged[key].values.update(report.values)
        else:
            merged[key] = report
    return list(merged.values())
