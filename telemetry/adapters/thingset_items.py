"""What each ThingSet firmware calls its data objects: item → metric, unit and scale, per firmware.

Declared from the firmware sources themselves, never guessed from the shape of a name:
- Libre Solar BMS (LibreSolar/bms-firmware, `app/src/data_objects.c(pp)`, group `Meas`, ids 0x71…0x84),
  three generations of names: up to v21 (ThingSet v0.3/v0.4, `Bat_V`, `Cells_V`, flat `output`
  group), 2022 (ThingSet v0.5, `rBat_V` then `rPack_V`, `rCells_V`) and since v23.0 (ThingSet v0.5
  then v0.6 with the ThingSet SDK, `rPackVoltage_V`, `rCellVoltages_V`, `rCellTemps_degC`);
- Libre Solar charge controllers and the ThingSet specification's examples: a `Bat` / `Battery`
  group with `rVoltage_V`, `rCurrent_A`, `rPower_W` beside `Solar` and `Load` groups, whose items
  are not the battery's.

Items a firmware sends that no metric of ours records (stack voltage, IC and MOSFET temperatures,
balancing status…) and items of other groups are kept as the battery's "unmapped items".
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Item:
    metric: str
    unit: str = ""  # as the firmware sends it
    scale: float = 1.0  # value × scale is in the metric's unit
    kind: str = "number"  # number | numbers (array) | flags (unsigned bit field) | state (enum)


@dataclass(frozen=True)
class ErrorFlag:
    bit: int
    code: str
    label: str


@dataclass(frozen=True)
class Firmware:
    key: str
    label: str
    # The groups holding the battery's items; "" is the message root (flat publications). A response
    # without the path it answers (`:85 {…}` alone) is read as the content of the first of them.
    groups: tuple[str, ...]
    items: dict[str, Item]
    error_flags: tuple[ErrorFlag, ...] = ()
    states: dict[int, str] = field(default_factory=dict)


# bms-firmware `BMS_ERR_*` (enum positions up to v23, BIT(n) since): the same bits in every release.
BMS_ERROR_FLAGS = (
    ErrorFlag(0, "cell_undervoltage", _("cell undervoltage")),
    ErrorFlag(1, "cell_overvoltage", _("cell overvoltage")),
    ErrorFlag(2, "short_circuit", _("short circuit (discharge)")),
    ErrorFlag(3, "dis_overcurrent", _("discharge overcurrent")),
    ErrorFlag(4, "chg_overcurrent", _("charge overcurrent")),
    ErrorFlag(5, "open_wire", _("cell open wire")),
    ErrorFlag(6, "dis_undertemp", _("discharge under-temperature")),
    ErrorFlag(7, "dis_overtemp", _("discharge over-temperature")),
    ErrorFlag(8, "chg_undertemp", _("charge under-temperature")),
    ErrorFlag(9, "chg_overtemp", _("charge over-temperature")),
    ErrorFlag(10, "int_overtemp", _("internal over-temperature")),
    ErrorFlag(11, "cell_failure", _("cell failure")),
    ErrorFlag(12, "dis_off", _("discharge FET off")),
    ErrorFlag(13, "chg_off", _("charge FET off")),
    ErrorFlag(14, "fet_overtemp", _("MOSFET over-temperature")),
)
# bms-firmware `enum bms_state`.
BMS_STATES = {0: "off", 1: "charging", 2: "discharging", 3: "normal", 4: "shutdown"}

VOLT, AMPERE, DEGREE, PERCENT = "V", "A", "degC", "pct"

# Libre Solar BMS firmware up to v21 (data objects without an access prefix).
BMS_2021_ITEMS = {
    "Bat_V": Item("voltage", VOLT),
    "Bat_A": Item("current", AMPERE),
    "Bat_degC": Item("temperature", DEGREE),
    "SOC_pct": Item("soc", PERCENT),
    "ErrorFlags": Item("error_flags", kind="flags"),
    "BmsState": Item("state", kind="state"),
    "Cells_V": Item("cell_voltages", VOLT, kind="numbers"),
    "CellMin_V": Item("cell_voltage_min", VOLT),
    "CellMax_V": Item("cell_voltage_max", VOLT),
}

FIRMWARES: tuple[Firmware, ...] = (
    Firmware(
        key="libresolar-bms-2023",
        label="Libre Solar BMS, firmware v23 and later (ThingSet v0.5/v0.6)",
        groups=("Meas",),
        items={
            "rPackVoltage_V": Item("voltage", VOLT),
            "rPackCurrent_A": Item("current", AMPERE),
            "rBatTemp_degC": Item("temperature", DEGREE),
            "rCellTemps_degC": Item("cell_temperatures", DEGREE, kind="numbers"),
            "rSOC_pct": Item("soc", PERCENT),
            "rErrorFlags": Item("error_flags", kind="flags"),
            "rBmsState": Item("state", kind="state"),
            "rCellVoltages_V": Item("cell_voltages", VOLT, kind="numbers"),
            "rCellMinVoltage_V": Item("cell_voltage_min", VOLT),
            "rCellMaxVoltage_V": Item("cell_voltage_max", VOLT),
        },
        error_flags=BMS_ERROR_FLAGS,
        states=BMS_STATES,
    ),
    Firmware(
        key="libresolar-bms-2022",
        label="Libre Solar BMS, firmware of 2022 (ThingSet v0.5)",
        groups=("Meas",),
        # The 2021 names with v0.5's access prefix ("r": read-only), and the pack's own names.
        items={
            **{f"r{name}": item for name, item in BMS_2021_ITEMS.items()},
            "rPack_V": Item("voltage", VOLT),
            "rPack_A": Item("current", AMPERE),
        },
        error_flags=BMS_ERROR_FLAGS,
        states=BMS_STATES,
    ),
    Firmware(
        key="libresolar-bms-2021",
        label="Libre Solar BMS, firmware up to v21 (ThingSet v0.3/v0.4)",
        groups=("", "output"),
        items=BMS_2021_ITEMS,
        error_flags=BMS_ERROR_FLAGS,
        states=BMS_STATES,
    ),
    Firmware(
        key="thingset-battery-group",
        label="Libre Solar charge controllers, ThingSet specification examples (Bat group)",
        groups=("Bat", "Battery"),
        items={
            "rVoltage_V": Item("voltage", VOLT),
            "rCurrent_A": Item("current", AMPERE),
            "rPower_W": Item("power", "W"),
            "rTemperature_degC": Item("temperature", DEGREE),
            "rSOC_pct": Item("soc", PERCENT),
            "pSOH_pct": Item("soh", PERCENT),
            # the ThingSet v0.5 specification's examples
            "rMeas_V": Item("voltage", VOLT),
            "rMeas_A": Item("current", AMPERE),
        },
    ),
)
FIRMWARE_BY_KEY = {firmware.key: firmware for firmware in FIRMWARES}
# Items every firmware sends that describe the message, not the battery.
TIME_ITEM = "t_s"
IDENTITY_ITEMS = {"pNodeID", "cNodeID", "NodeID", "DeviceID", "cMetadataURL"}


def error_flag_labels(firmware_key: str) -> list[str]:
    """The firmware's error flag names in bit order ([] when its bits are not declared)."""
    firmware = FIRMWARE_BY_KEY.get(firmware_key)
    if firmware is None or not firmware.error_flags:
        return []
    labels = [""] * (max(flag.bit for flag in firmware.error_flags) + 1)
    for flag in firmware.error_flags:
        labels[flag.bit] = str(flag.label)
    return labels
