"""Shelly meters: the seed's flat webhook and Gen2 devices (Shelly Pro 1PM and kin).

Shapes accepted, told apart by their keys:
- flat (the seed's webhook): `{"power", "voltage", "current", "energy"}`, by POST JSON or GET query
  string; the server stamps the time; `energy` is the device's cumulative counter in Wh.
- `Shelly.GetStatus` result: components keyed by name (`switch:0`, `sys`, …); `sys.unixtime` is the
  device clock, `sys.mac` its identity.
- JSON-RPC notifications `{"src", "method", "params": {"ts", "<component>": {…}}}`:
  `NotifyFullStatus` replaces the last known status, `NotifyStatus` carries only what changed and is
  merged onto it (a key set to null was removed), `NotifyEvent` carries no measurement but events
  (`params.events[]`: component, event, ts), read by `parse_events`.
- a GetStatus reply wrapped in a JSON-RPC response `{"id", "src", "result": {…}}`.

The switch's `aenergy.total` (Wh) is a counter: the ingestion service turns counter differences into
energy per interval and detects resets.
"""

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from core.moments import parse_moment
from telemetry.adapters import AdapterError, Report

FLAT_FIELDS = {"power": "power", "voltage": "voltage", "current": "current", "energy": "energy_total_wh"}
METER_COMPONENTS = ("switch:0", "pm1:0", "em1:0")


# The Switch component's protections: the device turns the output off and notifies the event.
PROTECTION_EVENTS = {
    "overpower": _("overpower protection tripped"),
    "overvoltage": _("overvoltage protection tripped"),
    "undervoltage": _("undervoltage protection tripped"),
    "overcurrent": _("overcurrent protection tripped"),
    "overtemp": _("overtemperature protection tripped"),
}


def normalise_device_id(value: str) -> str:
    """Device ids and MACs compare case- and separator-insensitively (`A8:03:2A…` = `a8032a…`)."""
    return str(value).strip().lower().replace(":", "").replace("-", "")


def merge_status(state: dict, changes: dict) -> dict:
    """Apply a partial status onto the last known one: nested objects merge, null removes."""
    merged = dict(state)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_status(merged[key], value)
        else:
            merged[key] = value
    return merged


def _number(component: dict, key: str, where: str):
    value = component.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdapterError(f"{where}.{key}", "Expected a number.")
    return float(value)


def switch_values(status: dict) -> dict:
    """Readings from a (merged) Gen2 status: the first metering component found."""
    name = next((name for name in METER_COMPONENTS if isinstance(status.get(name), dict)), None)
    if name is None:
        return {}
    component = status[name]
    values = {
        "power": _number(component, "apower", name),
        "voltage": _number(component, "voltage", name),
        "current": _number(component, "current", name),
        "pf": _number(component, "pf", name),
        "frequency": _number(component, "freq", name),
    }
    energy = component.get("aenergy")
    if isinstance(energy, dict):
        values["energy_total_wh"] = _number(energy, "total", f"{name}.aenergy")
    temperature = component.get("temperature")
    if isinstance(temperature, dict):
        values["temperature"] = _number(temperature, "tC", f"{name}.temperature")
    if isinstance(component.get("output"), bool):
        values["output"] = component["output"]
    errors = component.get("errors")
    if isinstance(errors, list) and errors:
        values["errors"] = ",".join(str(error) for error in errors)[:255]
    return {key: value for key, value in values.items() if value is not None}


def _moment(value, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdapterError(where, "Expected unix seconds.")
    try:
        return parse_moment(value, unit="s")
    except ValueError as exc:
        raise AdapterError(where, str(exc)) from None


def claimed_device(data) -> str | None:
    """The identity a message claims (`src`, else `sys.mac`), refused by name if it is not text."""
    if not isinstance(data, dict):
        return None
    sys = data.get("sys")
    for where, value in (("src", data.get("src")), ("sys.mac", sys.get("mac") if isinstance(sys, dict) else None)):
        if value is not None and not isinstance(value, str):
            raise AdapterError(where, "Expected the device id as text.")
        if value:
            return value
    return None


def parse_flat(data) -> Report:
    """The seed's webhook: flat numbers (strings in a query string), no time."""
    values, unknown = {}, []
    for key, value in data.items():
        if key in FLAT_FIELDS:
            values[FLAT_FIELDS[key]] = value
        elif key not in ("key", "device", "timestamp"):
            unknown.append(key)
    if not values:
        raise AdapterError("power", "Send at least one of power, voltage, current, energy.")
    return Report(values=values, device=data.get("device") or None)


def parse_shelly(data, last_status: dict) -> tuple[Report | None, dict | None]:
    """One Shelly message → (reading or None, the device's new full status or None if unchanged)."""
    if not isinstance(data, dict):
        raise AdapterError("body", "Expected a JSON object.")
    if "result" in data and isinstance(data["result"], dict):  # a JSON-RPC reply to Shelly.GetStatus
        data = {**data["result"], "src": data.get("src")}
    method = data.get("method")
    if method is not None:
        params = data.get("params")
        if not isinstance(params, dict):
            raise AdapterError("params", "A notification carries its status in params.")
        changes = {key: value for key, value in params.items() if key != "ts"}
        if method == "NotifyFullStatus":
            status = changes
        elif method == "NotifyStatus":
            status = merge_status(last_status, changes)
        elif method == "NotifyEvent":
            return None, None
        else:
            raise AdapterError("method", f"Unknown method “{method}”: expected NotifyStatus, NotifyFullStatus.")
        values = switch_values(status)
        report = Report(values=values, time=_moment(params.get("ts"), "params.ts"), device=data.get("src"))
        return (report if values else None), status
    if any(key in data for key in METER_COMPONENTS) or "sys" in data:
        sys = data.get("sys") or {}
        if not isinstance(sys, dict):
            raise AdapterError("sys", "Expected an object.")
        values = switch_values(data)
        if not values:
            raise AdapterError("switch:0", "The status has no switch:0 (or pm1:0) component to read.")
        device = data.get("src") or sys.get("mac")
        return Report(values=values, time=_moment(sys.get("unixtime"), "sys.unixtime"), device=device), data
    return parse_flat(data), None


def parse_events(data) -> list[dict]:
    """The events of a `NotifyEvent` frame ([] for any other message), each {"component", "event",
    "time"} with the event's own time, else the frame's, else None (now)."""
    if not isinstance(data, dict) or data.get("method") != "NotifyEvent":
        return []
    params = data.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("events"), list):
        raise AdapterError("params.events", "A NotifyEvent carries its events as a list in params.events.")
    events = []
    for index, event in enumerate(params["events"]):
        where = f"params.events[{index}]"
        if not isinstance(event, dict):
            raise AdapterError(where, "Expected an event object with component and event.")
        for key in ("component", "event"):
            if not isinstance(event.get(key), str) or not event[key].strip() or "\x00" in event[key]:
                raise AdapterError(f"{where}.{key}", "Expected a name, e.g. “switch:0” and “overpower”.")
        moment = event.get("ts", params.get("ts"))
        try:
            time = None if moment is None else parse_moment(moment)
        except ValueError as exc:
            raise AdapterError(f"{where}.ts", str(exc)) from None
        events.append(
            {"component": event["component"].strip()[:32], "event": event["event"].strip()[:64], "time": time}
        )
    return events
