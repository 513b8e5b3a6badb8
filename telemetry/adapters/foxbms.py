"""foxBMS 2: CAN frames from a `candump` log, decoded with the customer's DBC (cantools).

Lines accepted: `(1436509052.249713) can0 233#0102030405060708` (`candump -l`) and the screen form
with a timestamp, `(1436509052.249713)  can0  233   [8]  01 02 03 04 05 06 07 08`. Frames the DBC
does not know are skipped. Frames within one second of a window's first frame make one reading
(foxBMS sends its pack values every 100 ms and its cell values over several multiplexed frames).

Signals are mapped by NAME, never by frame id, so the DBC of another foxBMS release maps as long as
its signal names stay (ids and layouts do change between releases). Units come from the DBC: mV,
kW, kWh and 0.1 % steps are converted by cantools' scaling plus the unit factors below.
"""

import re

import cantools

from core.moments import parse_moment
from telemetry.adapters import AdapterError, Report

WINDOW_S = 1.0
LOG_LINE = re.compile(r"^\((?P<ts>\d+(?:\.\d+)?)\)\s+(?P<iface>\S+)\s+(?P<id>[0-9A-Fa-f]{1,8})#(?P<data>\S*)$")
SCREEN_LINE = re.compile(
    r"^\((?P<ts>\d+(?:\.\d+)?)\)\s+(?P<iface>\S+)\s+(?P<id>[0-9A-Fa-f]{1,8})\s+\[(?P<dlc>\d)\]\s*(?P<data>(?:[0-9A-Fa-f]{2}\s*)*)$"
)
CELL_SIGNAL = re.compile(r"^Cell(Voltage|Temperature)_(\d+)$")
UNIT_FACTORS = {"mV": 0.001, "V": 1.0, "mA": 0.001, "A": 1.0, "kW": 1000.0, "W": 1.0, "degC": 1.0, "%": 1.0}

# signal name → metric (pack level; the string-level messages repeat these per string)
SIGNALS = {
    "BatteryVoltage": "voltage",
    "Current": "current",
    "Power": "power",
    "MinimumCellVoltage": "cell_voltage_min",
    "MaximumCellVoltage": "cell_voltage_max",
    "MinimumCellTemperature": "temperature_min",
    "MaximumCellTemperature": "temperature_max",
    "Soh": "soh",
}
SOC_SIGNALS = ("MinimumSoc", "MaximumSoc")  # the pack's SOC is their mean
PACK_MESSAGES = ("f_PackValuesP0", "f_PackMinMaxCellVoltage", "f_PackMinMaxCellTemperature", "f_PackStateEstimation")
STATE_MESSAGE, STATE_SIGNAL = "f_BmsState", "BmsState"


def load_dbc(text: str) -> cantools.database.Database:
    try:
        return cantools.database.load_string(text, database_format="dbc", strict=False)
    except Exception as exc:  # cantools raises several parser error types
        raise AdapterError("dbc", f"The DBC cannot be read: {str(exc)[:200]}") from None


MAX_DBC_BYTES = 4 * 1024 * 1024  # foxBMS 2's own DBC is about 200 kB


def dbc_text(data: bytes, field: str = "dbc") -> str:
    """An uploaded DBC file as text, checked to parse (AdapterError naming `field` otherwise). DBC
    files are UTF-8 or, as CANdb++ writes them, Windows-1252."""
    if len(data) > MAX_DBC_BYTES:
        raise AdapterError(field, f"The DBC is larger than {MAX_DBC_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise AdapterError(field, "The DBC file is empty.")
    if "\x00" in text:  # a binary file: PostgreSQL could not store it, and no DBC holds one
        raise AdapterError(field, "The DBC contains a NUL character: it is not a DBC text file.")
    try:
        load_dbc(text)
    except AdapterError as exc:
        raise AdapterError(field, exc.reason) from None
    return text


def error_signals(dbc) -> list[str]:
    """The bit order of `error_flags`: the state message's error signals, by name."""
    try:
        message = dbc.get_message_by_name(STATE_MESSAGE)
    except KeyError:
        return []
    return sorted(s.name for s in message.signals if s.name.endswith("Error") or s.name == "EmergencyShutoff")


def _frames(text: str):
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LOG_LINE.match(line) or SCREEN_LINE.match(line)
        if match is None:
            raise AdapterError(f"line {number}", "Expected a candump line like “(1700000000.123456) can0 233#0102…”.")
        data = re.sub(r"\s+", "", match["data"])
        if len(data) % 2:
            raise AdapterError(f"line {number}", "The frame data has an odd number of hex digits.")
        try:
            payload = bytes.fromhex(data)
        except ValueError:
            raise AdapterError(f"line {number}", "The frame data is not hexadecimal.") from None
        try:
            moment = parse_moment(match["ts"], unit="s").timestamp()
        except ValueError as exc:
            raise AdapterError(f"line {number}", str(exc)) from None
        yield number, moment, int(match["id"], 16), payload


def _scaled(value, unit: str | None) -> float:
    # Rounded: a CAN signal's resolution is far coarser than the float noise of raw × scale.
    return round(float(value) * UNIT_FACTORS.get(unit or "", 1.0), 6)


def parse_candump(text: str, dbc) -> list[Report]:
    errors = error_signals(dbc)
    windows: list[tuple[float, float, dict]] = []  # (start, last, decoded signals)
    decoded_any = False
    for number, moment, frame_id, payload in _frames(text):
        try:
            message = dbc.get_message_by_frame_id(frame_id)
        except KeyError:
            continue
        if len(payload) != message.length:
            raise AdapterError(
                f"line {number}", f"{message.name} has {message.length} bytes, this frame {len(payload)}."
            )
        try:
            signals = message.decode(payload, decode_choices=False, scaling=True)
        except Exception as exc:
            raise AdapterError(f"line {number}", f"{message.name} cannot be decoded: {str(exc)[:120]}") from None
        decoded_any = True
        if not windows or moment - windows[-1][0] >= WINDOW_S:
            windows.append((moment, moment, {}))
        start, _last, values = windows[-1]
        windows[-1] = (start, moment, values)
        by_name = {signal.name: signal for signal in message.signals}
        for name, value in signals.items():
            values[(message.name, name)] = (value, by_name[name].unit, by_name[name].choices)
    if not decoded_any:
        raise AdapterError("frames", "No frame of this log is described by the DBC: is it your foxBMS build's DBC?")
    return [_report(values, last, errors) for _start, last, values in windows]


def _report(signals: dict, moment: float, errors: list[str]) -> Report:
    values: dict = {}
    cells: dict[str, dict[int, float]] = {"Voltage": {}, "Temperature": {}}
    soc = []
    flags = 0
    for (message, name), (value, unit, _choices) in signals.items():
        cell = CELL_SIGNAL.match(name)
        if cell:
            cells[cell[1]][int(cell[2])] = _scaled(value, unit)
        elif name in SIGNALS and (message in PACK_MESSAGES or SIGNALS[name] not in values):
            values[SIGNALS[name]] = _scaled(value, unit)
        elif name in SOC_SIGNALS and message == "f_PackStateEstimation":
            soc.append(float(value))
        if message == STATE_MESSAGE and name in errors and value:
            flags |= 1 << errors.index(name)
    if soc:
        values["soc"] = sum(soc) / len(soc)
    for kind, metric in (("Voltage", "cell_voltages"), ("Temperature", "cell_temperatures")):
        found = cells[kind]
        # Only a complete run of cells 0…n-1 is a cell array; a window that caught part of the
        # multiplexed frames keeps its min/max from the pack messages instead.
        if found and sorted(found) == list(range(len(found))):
            values[metric] = [round(found[i], 4) for i in range(len(found))]
    if "temperature" not in values and "temperature_max" in values:
        values["temperature"] = values["temperature_max"]
    if errors and any(key[0] == STATE_MESSAGE for key in signals):
        values["error_flags"] = flags
    state = signals.get((STATE_MESSAGE, STATE_SIGNAL))
    if state is not None:
        value, _unit, choices = state
        values["state"] = (
            str(choices[int(value)]).lower()[:32] if choices and int(value) in choices else f"{int(value)}"
        )
    return Report(values=values, time=parse_moment(moment, unit="s"))
