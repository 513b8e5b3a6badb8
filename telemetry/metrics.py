"""The metrics each asset kind records: one column each in its readings table.

Every ingestion path (generic JSON, Shelly, ThingSet, foxBMS) produces values under these names;
`ROLLUP_METRICS` are the numeric ones kept in the hourly and daily rollups.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    kind: str = "float"  # float | int | text | bool | float[]
    rollup: bool = True
    minimum: float | None = None
    maximum: float | None = None


BATTERY_METRICS: tuple[Metric, ...] = (
    Metric("voltage", _("Pack voltage"), "V", minimum=-2000, maximum=2000),
    Metric("current", _("Current"), "A", minimum=-10000, maximum=10000),
    Metric("power", _("Power"), "W", minimum=-1e7, maximum=1e7),
    Metric("temperature", _("Temperature"), "°C", minimum=-100, maximum=250),
    Metric("temperature_min", _("Lowest cell temperature"), "°C", minimum=-100, maximum=250),
    Metric("temperature_max", _("Highest cell temperature"), "°C", minimum=-100, maximum=250),
    Metric("soc", _("State of charge"), "%", minimum=0, maximum=100),
    Metric("soh", _("State of health"), "%", minimum=0, maximum=100),
    Metric("cell_voltage_min", _("Lowest cell voltage"), "V", minimum=0, maximum=10),
    Metric("cell_voltage_max", _("Highest cell voltage"), "V", minimum=0, maximum=10),
    Metric("cell_voltages", _("Cell voltages"), "V", kind="float[]", rollup=False, minimum=0, maximum=10),
    Metric("cell_temperatures", _("Cell temperatures"), "°C", kind="float[]", rollup=False, minimum=-100, maximum=250),
    Metric("error_flags", _("BMS error flags"), "", kind="int", rollup=False, minimum=0, maximum=2**63 - 1),
    Metric("state", _("BMS state"), "", kind="text", rollup=False),
)

METER_METRICS: tuple[Metric, ...] = (
    Metric("power", _("Active power"), "W", minimum=-1e7, maximum=1e7),
    Metric("voltage", _("Voltage"), "V", minimum=0, maximum=2000),
    Metric("current", _("Current"), "A", minimum=-10000, maximum=10000),
    Metric("pf", _("Power factor"), "", minimum=-1, maximum=1),
    Metric("frequency", _("Frequency"), "Hz", minimum=0, maximum=1000),
    Metric("temperature", _("Device temperature"), "°C", minimum=-100, maximum=250),
    Metric("energy_wh", _("Energy"), "Wh", minimum=0, maximum=1e12),
    Metric("energy_total_wh", _("Energy counter"), "Wh", minimum=0, maximum=1e15),
    Metric("output", _("Output on"), "", kind="bool", rollup=False),
    Metric("errors", _("Device errors"), "", kind="text", rollup=False),
)

METRICS = {"battery": BATTERY_METRICS, "meter": METER_METRICS}
# Where each kind's readings are stored: one wide table per kind, a column per metric, key (asset, time).
READING_TABLES = {"battery": "telemetry_battery_reading", "meter": "telemetry_meter_reading"}
# Each kind's metric columns, in table order.
COLUMNS = {kind: [metric.name for metric in metrics] for kind, metrics in METRICS.items()}
METRIC_BY_NAME = {kind: {metric.name: metric for metric in metrics} for kind, metrics in METRICS.items()}
ROLLUP_METRICS = {kind: [m.name for m in metrics if m.rollup] for kind, metrics in METRICS.items()}
ARRAY_METRICS = {kind: {m.name for m in metrics if m.kind == "float[]"} for kind, metrics in METRICS.items()}
TEXT_METRICS = {kind: {m.name for m in metrics if m.kind == "text"} for kind, metrics in METRICS.items()}
