"""ThingSet (Libre Solar BMS, charge controllers): text-mode reports and responses, v0.4 to v0.6, or JSON.

A body may hold several lines:
- reports `#<path> <json>`: a group (`#Meas {"rPackVoltage_V": …}`) or a subset whose content
  nests the groups (`#mLive {"t_s": …, "Meas": {…}}`, `#mLive_ {"Bat": {…}, "Load": {…}}`); a path
  starting with `/` names the node first (`#/DEADBEEF/Meas …`);
- responses `:85 {json}` (v0.6) or `:85 Content. {json}` (v0.5). A response holds the content of
  the path its request asked for: a request line just before it (`?Meas`) names that group, and a
  fetch naming items (`?Meas ["rPackVoltage_V","rSOC_pct"]`) names the values of its answer
  (`:85 [52.1,80]`); alone, a response is read as the content of the firmware's battery group.
  Error statuses (`:A4 Not Found.`) are refused, naming the line;
- or the body is plain JSON: one object or a list of them, each the device's root when it nests
  groups, else (flat) the content of one group, read as a response without its request.

Which item is which metric comes from the declared tables of `thingset_items`, one per firmware:
the body is read with the firmware whose table recognises most of its items. An item is the
battery's only in that firmware's battery group: the `Load` group's power is not the battery's.
Items no metric records are returned as unmapped, by path, for the battery's page.
"""

import json
import re
from dataclasses import dataclass, field

from core.decoding import ROOT, BadInput, decode_json
from core.moments import parse_moment
from telemetry.adapters import AdapterError, Report
from telemetry.adapters.thingset_items import FIRMWARES, IDENTITY_ITEMS, TIME_ITEM, Firmware, Item

ERROR_STATUS = re.compile(r"^:(A[0-9A-F]|C[0-9A-F])\b", re.IGNORECASE)
MAX_UNMAPPED = 100  # a page lists them; a device sending more sends something else than measurements
MAX_UNMAPPED_TEXT = 64


@dataclass
class Statement:
    """One report, response or JSON object: its items as (group path, name, value)."""

    where: str
    base: str | None  # the group the statement is the content of ("" the root, None not known)
    items: list[tuple[str | None, str, object]]
    device: str | None = None


@dataclass
class Decoded:
    reports: list[Report]
    firmware: Firmware
    unmapped: dict[str, object] = field(default_factory=dict)


def _load(text: str, where: str):
    try:
        return decode_json(text)
    except BadInput as exc:  # a value inside is named by its path, like the items the mapping refuses
        raise AdapterError(where if exc.field == ROOT else exc.field, exc.reason) from None


def _split_path(path: str) -> tuple[str | None, str]:
    """`/NODE/Meas` → ("NODE", "Meas"); `mLive` (a subset) → (None, ""); `Meas` → (None, "Meas")."""
    device = None
    path = path.strip()
    if path.startswith("/"):
        device, _sep, path = path[1:].partition("/")
        device = device or None
    segments = [segment for segment in path.split("/") if segment]
    # Subsets (`mLive`, `m`, `mSerial`) and internal paths (`_pub`) start lower-case or with `_`:
    # their content nests the groups, from the root.
    if segments and not segments[-1][0].isupper():
        return device, ""
    return device, "/".join(segments)


def _flatten(data: dict, group: str | None, out: list) -> None:
    for name, value in data.items():
        if isinstance(value, dict):
            inner = name if not group else f"{group}/{name}"
            _flatten(value, inner, out)
        else:
            out.append((group, name, value))


def _statements(text: str) -> list[Statement]:
    if text[0] in "{[":
        data = _load(text, "body")
        statements = []
        for index, item in enumerate(data if isinstance(data, list) else [data]):
            if not isinstance(item, dict):
                raise AdapterError(f"body[{index}]", "Expected a JSON object of ThingSet items.")
            items: list = []
            # Groups nested: the device's root. Flat: the content of one group, not named, like a
            # response without its request.
            base = "" if any(isinstance(value, dict) for value in item.values()) else None
            _flatten(item, base, items)
            statements.append(Statement(f"body[{index}]", base, items))
        return statements
    statements = []
    requested: str | None = None  # the group the last request line asked for
    requested_names: list[str] | None = None  # and the items it fetched, when it named them
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"line {number}"
        if line[0] == "#":
            path, _sep, payload = line[1:].partition(" ")
            if not payload.strip():
                raise AdapterError(where, "A report is “#<path> <json>”: the JSON is missing.")
            device, group = _split_path(path)
            data = _load(payload, where)
        elif line[0] == ":":
            if ERROR_STATUS.match(line):
                raise AdapterError(where, f"The device answered with an error status: “{line[:60]}”.")
            status, _sep, payload = line[1:].partition(" ")
            device = status.partition("/")[2] or None
            payload = payload.strip()
            if payload[:1] not in ("{", "["):
                payload = payload.partition(" ")[2].strip()  # v0.5 says what the status means: "Content."
            group, names = requested, requested_names
            requested = requested_names = None
            if not payload:
                continue  # a status without content (":84 Changed.")
            data = _load(payload, where)
            if isinstance(data, list) and names is not None and len(names) == len(data):
                data = dict(zip(names, data, strict=True))  # the values of a fetch, in the order asked
            if not isinstance(data, dict):
                continue  # values without names (a bare item value, a list of names): nothing to read
        elif line[0] == "?":
            path, _sep, asked = line[1:].partition(" ")
            _device, requested = _split_path(path)
            names = _load(asked, where) if asked.strip() else None
            requested_names = names if isinstance(names, list) and all(isinstance(n, str) for n in names) else None
            continue
        elif line[0] in "=+-!@":
            raise AdapterError(where, "A request carries no measurements: send reports (#…) or responses (:85 …).")
        else:
            raise AdapterError(where, f"Unknown ThingSet line start “{line[0]}”.")
        if not isinstance(data, dict):
            raise AdapterError(where, "Expected a JSON object after the path.")
        items = []
        _flatten(data, group, items)
        statements.append(Statement(where, group, items, device))
    return statements


def _in_battery_group(firmware: Firmware, group: str | None) -> bool:
    return group is None or group in firmware.groups


def _mapped(firmware: Firmware, group: str | None, name: str) -> Item | None:
    item = firmware.items.get(name)
    return item if item is not None and _in_battery_group(firmware, group) else None


def _choose_firmware(statements: list[Statement]) -> Firmware:
    """The firmware whose table recognises most items (the first declared on a tie)."""
    scores = [
        sum(1 for s in statements for group, name, _v in s.items if _mapped(firmware, group, name))
        for firmware in FIRMWARES
    ]
    best = max(scores)
    if not best:
        known = ", ".join(sorted({name for f in FIRMWARES for name in f.items})[:8])
        raise AdapterError(
            "body", f"No item of a known ThingSet firmware found (e.g. {known}…): check the firmware's item names."
        )
    return FIRMWARES[scores.index(best)]


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdapterError(field, "Expected a number.")
    return float(value)


def _value(firmware: Firmware, item: Item, value, field: str):
    if item.kind == "numbers":
        if not isinstance(value, list):
            raise AdapterError(field, "Expected an array of numbers.")
        return [_number(entry, field) * item.scale for entry in value]
    if item.kind == "flags":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AdapterError(field, "Expected the error flags as a non-negative integer bit field.")
        return value
    if item.kind == "state":
        if isinstance(value, int) and not isinstance(value, bool):
            return firmware.states.get(value, str(value))
        if isinstance(value, str) and value.strip():
            return value.strip().lower()[:32]
        raise AdapterError(field, "Expected the state as a number or a name.")
    return _number(value, field) * item.scale


def _path(group: str | None, name: str) -> str:
    return f"{group}/{name}" if group else name


def _shown(value):
    """An unmapped value as the page lists it: scalars as they are, anything longer cut short."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = _storable(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
    return text if len(text) <= MAX_UNMAPPED_TEXT else text[: MAX_UNMAPPED_TEXT - 1] + "…"


def _storable(text: str) -> str:
    return text.replace("\x00", "\ufffd")  # PostgreSQL's JSON cannot hold a NUL


def parse_thingset(body: str, *, default_device: str | None = None) -> Decoded:
    text = body.strip()
    if not text:
        raise AdapterError("body", "Empty: send ThingSet reports (#…), responses (:85 …) or JSON.")
    statements = _statements(text)
    firmware = _choose_firmware(statements)
    reports: list[Report] = []
    unmapped: dict[str, object] = {}
    for statement in statements:
        values: dict = {}
        moment = None
        for group, name, value in statement.items:
            path = _path(group, name)
            if name == TIME_ITEM and group == statement.base:  # the statement's own timestamp
                try:
                    moment = parse_moment(_number(value, path), unit="s")
                except ValueError as exc:
                    raise AdapterError(path, str(exc)) from None
            elif name in IDENTITY_ITEMS:
                continue
            elif item := _mapped(firmware, group, name):
                values[item.metric] = _value(firmware, item, value, path)
            elif len(unmapped) < MAX_UNMAPPED:
                unmapped[_storable(path)[:MAX_UNMAPPED_TEXT]] = _shown(value)
        if "temperature" not in values and values.get("cell_temperatures"):
            # Newer BMS firmware reports no pack temperature: the pack is as warm as its hottest cell.
            values["temperature"] = max(values["cell_temperatures"])
        if values:
            reports.append(Report(values=values, time=moment, device=statement.device or default_device))
    if not reports:
        raise AdapterError("body", "No measurement found: check the item names (e.g. rPackVoltage_V, rSOC_pct).")
    return Decoded(reports=_merge_same_moment(reports), firmware=firmware, unmapped=unmapped)


def _merge_same_moment(reports: list[Report]) -> list[Report]:
    """Groups reported together (`#Meas …` then `#Cells …`) at one moment are one reading."""
    merged: dict = {}
    for report in reports:
        key = (report.time, report.device)
        if key in merged:
            merged[key].values.update(report.values)
        else:
            merged[key] = report
    return list(merged.values())
