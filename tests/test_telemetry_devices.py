"""Battery device formats over HTTP: ThingSet reports (v0.5, v0.6, JSON) and foxBMS candump logs."""

import os
from datetime import UTC, datetime
from pathlib import Path

import cantools
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from telemetry.models import AssetType, BatteryReading
from tests.factories import make_battery

DATA = Path(__file__).parent / "data"
# The foxBMS 2 v1.11.0 DBC (third-party, not copied here): beside the checkout, or where
# FOXBMS_TEST_DBC says.
REAL_DBC = next(
    (
        path
        for path in (
            Path(os.environ.get("FOXBMS_TEST_DBC", "/nonexistent")),
            Path(__file__).resolve().parents[2] / "shared" / "data" / "foxbms" / "foxbms.dbc",
            Path("/work/shared/data/foxbms/foxbms.dbc"),
        )
        if path.exists()
    ),
    Path("/nonexistent"),
)
TS = 1795500000


def rows(world):
    with schema_context(world.slug):
        found = list(BatteryReading.objects.order_by("time"))
    connection.set_schema_to_public()
    return found


@pytest.fixture
def battery(alpha):
    return make_battery(alpha, connector="thingset")


def post_text(world, path, battery, body):
    return world.api().post(f"{path}?battery={battery.serial}", body, content_type="text/plain")


V06_REPORT = (
    f'#m {{"t_s":{TS},"Bat_V":51.84,"Stack_V":51.86,"Bat_A":-12.31,"Cells_V":[3.241,3.239,3.244,3.238],'
    '"Cells_degC":[24.5,25.1],"IC_degC":31.2,"MOSFETs_degC":28.4,"SOC_pct":78.5,"ErrorFlags":0,"BmsState":2}'
)


def test_a_v06_report_becomes_a_reading_with_cells_state_and_device_time(alpha, battery):
    response = post_text(alpha, "/api/v1/telemetry/thingset", battery, V06_REPORT)
    assert response.status_code == 201, response.content
    [row] = rows(alpha)
    assert row.time == datetime.fromtimestamp(TS, tz=UTC)
    assert (row.voltage, row.current, row.soc, row.soh) == (51.84, -12.31, 78.5, None)
    assert row.cell_voltages == [3.241, 3.239, 3.244, 3.238]
    assert (row.cell_voltage_min, row.cell_voltage_max) == (3.238, 3.244)
    assert (row.temperature, row.temperature_max, row.error_flags, row.state) == (25.1, 25.1, 0, "discharging")


def test_v05_reports_with_prefixed_names_and_numbered_cells_are_read(alpha, battery):
    body = "\n".join(
        [
            '#Bat {"rMeas_V":52.1,"rMeas_A":4.2,"rSOC_pct":81}',
            '#Cells {"rCell1_V":3.25,"rCell2_V":3.26,"rCell3_V":3.27}',
        ]
    )
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)  # groups reported together are one reading
    assert (row.voltage, row.current, row.soc) == (52.1, 4.2, 81)
    assert row.cell_voltages == [3.25, 3.26, 3.27]


def test_a_v05_fetch_response_is_read(alpha, battery):
    body = ':85 Content. {"Bat_V":50.2,"Bat_A":1.5,"SOC_pct":64,"ErrorFlags":4}'
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.soc, row.error_flags) == (50.2, 64, 4)


def test_json_groups_are_read(alpha, battery):
    body = {"Bat": {"rMeas_V": 49.9, "rMeas_A": -2.0}, "Cells": {"Cells_V": [3.1, 3.12]}, "SOC_pct": 40}
    response = alpha.api().post(
        f"/api/v1/telemetry/thingset?battery={battery.serial}", body, content_type="application/json"
    )
    assert response.status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.cell_voltages, row.soc) == (49.9, -2.0, [3.1, 3.12], 40)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('#m {"Bat_V": 51.2', "line 1"),
        ('#m {"Bat_V": "high"}', "Bat_V"),
        (":A4 Not Found.", "line 1"),
        ('?m ["Bat_V"]', "line 1"),
        ('#m {"Unknown_xyz": 1}', "body"),
        ('#m {"SOC_pct": 140}', "values.soc"),
    ],
)
def test_malformed_thingset_is_refused_naming_the_place_and_nothing_is_stored(alpha, battery, body, field):
    response = post_text(alpha, "/api/v1/telemetry/thingset", battery, body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert rows(alpha) == []


# --- foxBMS -----------------------------------------------------------------------------------------


def candump(dbc, frames: list[tuple[float, str, dict]]) -> str:
    lines = []
    for moment, name, signals in frames:
        message = dbc.get_message_by_name(name)
        data = message.encode(signals, strict=False)
        lines.append(f"({moment:.6f}) can0 {message.frame_id:03X}#{data.hex().upper()}")
    return "\n".join(lines)


@pytest.fixture
def mini_dbc_text():
    return (DATA / "foxbms-mini.dbc").read_text()


@pytest.fixture
def foxbms_battery(alpha, mini_dbc_text):
    with schema_context(alpha.slug):
        fox_type = AssetType.objects.create(name="foxBMS rack", kind="battery", can_database=mini_dbc_text)
    connection.set_schema_to_public()
    return make_battery(alpha, type=fox_type, connector="foxbms")


def cycle(moment: float) -> list[tuple[float, str, dict]]:
    return [
        (moment, "f_PackValuesP0", {"BatteryVoltage": 52.3, "Current": -15.5, "Power": -0.81, "BusVoltage": 52.2}),
        (moment + 0.01, "f_PackMinMaxCellVoltage", {"MaximumCellVoltage": 3312, "MinimumCellVoltage": 3281}),
        (moment + 0.02, "f_PackMinMaxCellTemperature", {"MinimumCellTemperature": 21, "MaximumCellTemperature": 27}),
        (moment + 0.03, "f_PackStateEstimation", {"MinimumSoc": 61.0, "MaximumSoc": 63.0, "Soh": 96.5}),
        (moment + 0.04, "f_BmsState", {"BmsState": 7, "GeneralError": 0, "InsulationError": 1,
                                       "PackOvercurrentChargeError": 0}),
        (moment + 0.05, "f_CellVoltages", {"f_CellVoltages_Mux": 0, "CellVoltage_000": 3290, "CellVoltage_001": 3301,
                                           "CellVoltage_002": 3312, "CellVoltage_003": 3281}),
        (moment + 0.06, "f_CellVoltages", {"f_CellVoltages_Mux": 1, "CellVoltage_004": 3295, "CellVoltage_005": 3299,
                                           "CellVoltage_006": 3300, "CellVoltage_007": 3297}),
    ]  # fmt: skip


def test_a_candump_log_becomes_one_reading_per_foxbms_cycle(alpha, foxbms_battery, mini_dbc_text):
    dbc = cantools.database.load_string(mini_dbc_text)
    log = candump(dbc, cycle(TS) + cycle(TS + 1.0))
    response = post_text(alpha, "/api/v1/telemetry/foxbms", foxbms_battery, log)
    assert response.status_code == 201, response.content
    first, second = rows(alpha)
    assert second.time == datetime.fromtimestamp(TS + 1.06, tz=UTC)
    assert (first.voltage, first.current, first.power) == (52.3, -15.5, pytest.approx(-810.0))
    assert (first.cell_voltage_min, first.cell_voltage_max) == (3.281, 3.312)
    assert (first.temperature_min, first.temperature_max, first.temperature) == (21, 27, 27)
    assert (first.soc, first.soh, first.state) == (62.0, 96.5, "normal")
    assert first.cell_voltages == [3.29, 3.301, 3.312, 3.281, 3.295, 3.299, 3.3, 3.297]
    # bits follow the sorted error signals: GeneralError, InsulationError, PackOvercurrentChargeError
    assert first.error_flags == 0b010


def test_unknown_frames_are_skipped(alpha, foxbms_battery, mini_dbc_text):
    dbc = cantools.database.load_string(mini_dbc_text)
    log = "(1795500000.000000) can0 7FF#0102\n" + candump(dbc, cycle(TS)[:1])
    assert post_text(alpha, "/api/v1/telemetry/foxbms", foxbms_battery, log).status_code == 201
    [reading] = rows(alpha)
    assert (reading.asset_id, reading.time) == (foxbms_battery.pk, datetime.fromtimestamp(TS, tz=UTC))
    assert (reading.voltage, reading.current, reading.power) == (52.3, -15.5, pytest.approx(-810.0))


@pytest.mark.parametrize(
    ("log", "field"),
    [
        ("(1795500000.000000) can0 233#0102030", "line 1"),
        ("(1795500000.000000) can0 233#ZZ", "line 1"),
        ("can0 233#0102", "line 1"),
        ("(1795500000.000000) can0 233#0102", "line 1"),  # too short for f_PackValuesP0
        ("(1795500000.000000) can0 7FF#0102", "frames"),
    ],
)
def test_malformed_candump_lines_are_refused(alpha, foxbms_battery, log, field):
    response = post_text(alpha, "/api/v1/telemetry/foxbms", foxbms_battery, log)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert rows(alpha) == []


def test_a_battery_type_without_a_dbc_is_told_to_upload_one(alpha):
    battery = make_battery(alpha, connector="foxbms")
    response = post_text(alpha, "/api/v1/telemetry/foxbms", battery, "(1795500000.0) can0 233#00")
    assert response.status_code == 400
    assert "DBC" in response.json()["fields"]["dbc"]


@pytest.mark.skipif(not REAL_DBC.exists(), reason="the foxBMS 2 v1.11.0 DBC is not on this machine")
def test_frames_encoded_with_the_real_foxbms_dbc_are_decoded(alpha):
    text = REAL_DBC.read_text()
    dbc = cantools.database.load_string(text, strict=False)
    with schema_context(alpha.slug):
        fox_type = AssetType.objects.create(name="foxBMS 2 v1.11", kind="battery", can_database=text)
    connection.set_schema_to_public()
    battery = make_battery(alpha, type=fox_type, connector="foxbms")
    cells = dbc.get_message_by_name("f_CellVoltages")
    mux0 = {s.name: 0 for s in cells.signals if s.multiplexer_ids and 0 in s.multiplexer_ids}
    mux0.update({"f_CellVoltages_Mux": 0, "CellVoltage_000": 3301, "CellVoltage_001": 3302,
                 "CellVoltage_002": 3303, "CellVoltage_003": 3304})  # fmt: skip
    min_max = {s.name: 0 for s in dbc.get_message_by_name("f_PackMinMaxCellVoltage").signals}
    min_max.update({"MaximumCellVoltage": 3304, "MinimumCellVoltage": 3301})
    frames = [
        (TS, "f_PackValuesP0", {"BatteryVoltage": 400.2, "BusVoltage": 400.0, "Power": 12.5, "Current": 31.25}),
        (TS + 0.01, "f_PackMinMaxCellVoltage", min_max),
        (TS + 0.02, "f_CellVoltages", mux0),
    ]  # fmt: skip
    response = post_text(alpha, "/api/v1/telemetry/foxbms", battery, candump(dbc, frames))
    assert response.status_code == 201, response.content
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.power) == (400.2, 31.25, 12500.0)
    assert (row.cell_voltage_min, row.cell_voltage_max) == (3.301, 3.304)
