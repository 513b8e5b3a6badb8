"""Battery device formats over HTTP: ThingSet reports (v0.5, v0.6, JSON) and foxBMS candump logs."""

import os
from datetime import UTC, datetime
from pathlib import Path

import cantools
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django_tenants.utils import schema_context

from alerts.models import Alert
from telemetry.models import AssetType, Battery, BatteryReading
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


# As the Libre Solar BMS firmware (v23 and later, ThingSet SDK) reports its live subset: the `Meas`
# group's items nested in `mLive` (names from bms-firmware app/src/data_objects.c).
BMS_LIVE_REPORT = (
    f'#mLive {{"t_s":{TS},"Meas":{{"rPackVoltage_V":51.84,"rStackVoltage_V":51.86,"rPackCurrent_A":-12.31,'
    '"rCellTemps_degC":[24.5,25.1],"rICTemp_degC":31.2,"rMOSFETTemp_degC":28.4,"rSOC_pct":78.5,'
    '"rErrorFlags":0,"rBmsState":2,"rCellVoltages_V":[3.241,3.239,3.244,3.238],"rCellAvgVoltage_V":3.2405,'
    '"rCellMinVoltage_V":3.238,"rCellMaxVoltage_V":3.244,"rBalancingStatus":0}}'
)


def test_a_bms_live_report_stores_every_measurement_as_the_firmware_names_it(alpha, battery):
    response = post_text(alpha, "/api/v1/telemetry/thingset", battery, BMS_LIVE_REPORT)
    assert response.status_code == 201, response.content
    [row] = rows(alpha)
    assert row.time == datetime.fromtimestamp(TS, tz=UTC)
    assert (row.voltage, row.current, row.soc, row.soh) == (51.84, -12.31, 78.5, None)
    assert row.cell_voltages == [3.241, 3.239, 3.244, 3.238]
    assert (row.cell_voltage_min, row.cell_voltage_max) == (3.238, 3.244)
    assert row.cell_temperatures == [24.5, 25.1]
    assert (row.temperature, row.temperature_min, row.temperature_max) == (25.1, 24.5, 25.1)
    assert (row.error_flags, row.state) == (0, "discharging")


def test_a_bms_group_report_and_a_response_to_its_fetch_are_read(alpha, battery):
    body = "\n".join(
        [
            '#Meas {"rPackVoltage_V":52.02,"rPackCurrent_A":3.5,"rSOC_pct":80.5}',
            "?Meas",
            ':85 {"rCellMinVoltage_V":3.251,"rCellMaxVoltage_V":3.262}',
        ]
    )
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.soc) == (52.02, 3.5, 80.5)
    assert (row.cell_voltage_min, row.cell_voltage_max) == (3.251, 3.262)


def test_the_values_of_a_fetch_are_named_by_its_request(alpha, battery):
    body = '?Meas ["rPackVoltage_V","rPackCurrent_A","rSOC_pct"]\n:85 [52.11,-4.5,77.5]'
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.soc) == (52.11, -4.5, 77.5)


def test_a_group_report_with_its_own_timestamp_is_a_reading_at_that_time(alpha, battery):
    body = f'#Meas {{"t_s":{TS},"rPackVoltage_V":52.4}}'
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.time, row.voltage) == (datetime.fromtimestamp(TS, tz=UTC), 52.4)


def test_a_v06_response_keeps_voltage_and_current(alpha, battery):
    body = ':85 {"rVoltage_V":12.9,"rCurrent_A":-3.14,"sTargetVoltage_V":14.4}'
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current) == (12.9, -3.14)


def test_a_nested_v06_report_stores_the_battery_group_not_the_load_group(alpha, battery):
    body = (
        f'#mLive_ {{"t_s":{TS},"Bat":{{"rVoltage_V":12.9,"rCurrent_A":-3.14,"rPower_W":-40.5}},'
        '"Solar":{"rVoltage_V":18.2,"rPower_W":96.5},"Load":{"rVoltage_V":12.8,"rPower_W":137.0}}'
    )
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.power) == (12.9, -3.14, -40.5)


def test_the_items_of_other_groups_are_kept_as_unmapped_items(alpha, battery):
    body = f'#mLive_ {{"t_s":{TS},"Bat":{{"rVoltage_V":12.9}},"Solar":{{"rPower_W":96.5}},"Load":{{"rPower_W":137.0}}}}'
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    with schema_context(alpha.slug):
        items = Battery.objects.get(pk=battery.pk).thingset_items
    connection.set_schema_to_public()
    assert (items["firmware"], items["unmapped"]) == (
        "thingset-battery-group",
        {"Solar/rPower_W": 96.5, "Load/rPower_W": 137.0},
    )


def test_the_battery_api_gives_the_unmapped_items(alpha, battery):
    report = '#Meas {"rPackVoltage_V":51.2,"rICTemp_degC":30.5}'
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, report).status_code == 201
    body = alpha.api().get(f"/api/v1/telemetry/batteries/{battery.pk}/").json()
    assert body["thingset_items"]["firmware"] == "libresolar-bms-2023"
    assert body["thingset_items"]["unmapped"] == {"Meas/rICTemp_degC": 30.5}


def test_a_flat_json_object_is_read_as_the_content_of_the_battery_group(alpha, battery):
    body = {"rPackVoltage_V": 49.9, "rPackCurrent_A": -2.0, "rSOC_pct": 55.5}
    response = alpha.api().post(
        f"/api/v1/telemetry/thingset?battery={battery.serial}", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.soc) == (49.9, -2.0, 55.5)


def test_a_2022_bms_firmware_report_is_read_with_its_own_names(alpha, battery):
    body = '#Meas {"rPack_V":50.2,"rStack_V":50.3,"rPack_A":1.5,"rSOC_pct":64,"rErrorFlags":4,"rCells_V":[3.1,3.2]}'
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.soc, row.error_flags, row.cell_voltages) == (50.2, 1.5, 64, 4, [3.1, 3.2])


def test_a_2021_bms_firmware_publication_and_a_v05_response_are_read(alpha, battery):
    body = "\n".join(
        [
            '# {"Bat_V":50.2,"Bat_A":1.5,"SOC_pct":64,"ErrorFlags":4,"Cells_V":[3.1,3.12]}',
            ':85 Content. {"CellMin_V":3.1,"CellMax_V":3.12}',
        ]
    )
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.soc, row.error_flags) == (50.2, 1.5, 64, 4)
    assert (row.cell_voltages, row.cell_voltage_min, row.cell_voltage_max) == ([3.1, 3.12], 3.1, 3.12)


def test_json_groups_are_read(alpha, battery):
    body = {"t_s": TS, "Meas": {"rPackVoltage_V": 49.9, "rPackCurrent_A": -2.0, "rCellVoltages_V": [3.1, 3.12]}}
    response = alpha.api().post(
        f"/api/v1/telemetry/thingset?battery={battery.serial}", body, content_type="application/json"
    )
    assert response.status_code == 201
    [row] = rows(alpha)
    assert (row.voltage, row.current, row.cell_voltages) == (49.9, -2.0, [3.1, 3.12])


def test_items_no_metric_records_are_listed_on_the_battery_page(alpha, battery):
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, BMS_LIVE_REPORT).status_code == 201
    page = alpha.http("viewer").get(f"/battery/{battery.pk}/")
    assert page.status_code == 200
    section = page.content.decode().split('data-testid="unmapped-items"')[1].split("</section>")[0]
    for path, value in (("Meas/rStackVoltage_V", "51.86"), ("Meas/rICTemp_degC", "31.2"),
                        ("Meas/rMOSFETTemp_degC", "28.4"), ("Meas/rBalancingStatus", "0")):  # fmt: skip
        assert f"<code>{path}</code>" in section
        assert f"<td>{value}</td>" in section
    assert "rPackVoltage_V" not in section
    assert "Libre Solar BMS, firmware v23 and later" in page.content.decode()


def test_a_report_with_a_nul_in_an_unmapped_text_is_refused_on_its_field(alpha, battery):
    body = '#Meas {"rPackVoltage_V":51.2,"cNote":"a\\u0000b"}'
    response = post_text(alpha, "/api/v1/telemetry/thingset", battery, body)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["cNote"]
    assert rows(alpha) == []


def test_error_flags_are_named_as_the_firmware_names_them_and_raise_alerts(alpha, battery):
    body = '#Meas {"rPackVoltage_V":58.1,"rErrorFlags":6}'  # bits 1 and 2
    assert post_text(alpha, "/api/v1/telemetry/thingset", battery, body).status_code == 201
    page = alpha.http("viewer").get(f"/battery/{battery.pk}/").content.decode()
    assert "cell overvoltage, short circuit (discharge)" in page
    assert "bit 1" not in page
    with schema_context(alpha.slug):
        raised = sorted(Alert.objects.values_list("type", "severity", "message", "status", "source_id"))
    connection.set_schema_to_public()
    assert raised == [
        ("bms_flag:cell_overvoltage", "critical", "BMS error: cell overvoltage (error flag bit 1).", "firing",
         battery.serial),
        ("bms_flag:short_circuit", "critical", "BMS error: short circuit (discharge) (error flag bit 2).", "firing",
         battery.serial),
    ]  # fmt: skip


def test_a_cleared_error_flag_resolves_its_alert(alpha, battery):
    post_text(alpha, "/api/v1/telemetry/thingset", battery, f'#Meas {{"t_s":{TS},"rErrorFlags":2}}')
    post_text(alpha, "/api/v1/telemetry/thingset", battery, f'#Meas {{"t_s":{TS + 1},"rErrorFlags":0}}')
    with schema_context(alpha.slug):
        statuses = list(Alert.objects.filter(type="bms_flag:cell_overvoltage").values_list("status", flat=True))
    connection.set_schema_to_public()
    assert statuses == ["resolved"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('#Meas {"rPackVoltage_V": 51.2', "line 1"),
        ('#Meas {"rPackVoltage_V": "high"}', "Meas/rPackVoltage_V"),
        (":A4 Not Found.", "line 1"),
        ('=Meas {"rPackVoltage_V": 1}', "line 1"),
        ('#mLive {"Meas": {"Unknown_xyz": 1}}', "body"),
        ('#Meas {"rSOC_pct": 140}', "values.soc"),
        ('#Meas {"rErrorFlags": -1}', "Meas/rErrorFlags"),
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


# --- foxBMS DBC upload ------------------------------------------------------------------------------


def dbc_file(text: str, name: str = "foxbms.dbc") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="application/octet-stream")


def stored_dbc(world, pk: int) -> str:
    with schema_context(world.slug):
        text = AssetType.objects.get(pk=pk).can_database
    connection.set_schema_to_public()
    return text


@pytest.fixture
def bare_type(alpha):
    with schema_context(alpha.slug):
        created = AssetType.objects.create(name="foxBMS container", kind="battery")
    connection.set_schema_to_public()
    return created


def test_a_dbc_file_uploaded_in_the_portal_decodes_the_types_batteries(alpha, bare_type, mini_dbc_text):
    form = {"name": bare_type.name, "kind": "battery", "custom_fields": "[]", "can_database": ""}
    response = alpha.http("operator").post(
        f"/types/{bare_type.pk}/edit/", {**form, "can_database_file": dbc_file(mini_dbc_text)}
    )
    assert response.status_code == 302
    assert stored_dbc(alpha, bare_type.pk) == mini_dbc_text
    battery = make_battery(alpha, type=bare_type, connector="foxbms")
    log = candump(cantools.database.load_string(mini_dbc_text), cycle(TS)[:1])
    assert post_text(alpha, "/api/v1/telemetry/foxbms", battery, log).status_code == 201


def test_a_dbc_file_that_does_not_parse_is_refused_in_the_portal_on_its_field(alpha, bare_type):
    form = {"name": bare_type.name, "kind": "battery", "custom_fields": "[]", "can_database": ""}
    response = alpha.http("operator").post(
        f"/types/{bare_type.pk}/edit/", {**form, "can_database_file": dbc_file("BO_ 12 oops\n garbage ::")}
    )
    assert response.status_code == 400
    assert "The DBC cannot be read" in response.context["form"].errors["can_database_file"][0]
    assert stored_dbc(alpha, bare_type.pk) == ""


def test_a_dbc_file_uploaded_through_the_api_is_kept_on_the_type(alpha, mini_dbc_text):
    response = alpha.api().post(
        "/api/v1/telemetry/types/",
        {"name": "foxBMS rack", "kind": "battery", "can_database_file": dbc_file(mini_dbc_text)},
    )
    assert response.status_code == 201, response.content
    assert response.json()["has_can_database"] is True
    assert "can_database" not in response.json()
    assert stored_dbc(alpha, response.json()["id"]) == mini_dbc_text


def test_a_dbc_file_replaces_the_dbc_of_an_existing_type_through_the_api(alpha, bare_type, mini_dbc_text):
    response = alpha.api().patch(
        f"/api/v1/telemetry/types/{bare_type.pk}/",
        encode_multipart(BOUNDARY, {"can_database_file": dbc_file(mini_dbc_text)}),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 200, response.content
    assert stored_dbc(alpha, bare_type.pk) == mini_dbc_text


def test_a_dbc_that_does_not_parse_is_a_400_naming_the_field(alpha, bare_type):
    response = alpha.api().patch(
        f"/api/v1/telemetry/types/{bare_type.pk}/",
        encode_multipart(BOUNDARY, {"can_database_file": dbc_file("BO_ 12 oops\n garbage ::")}),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 400
    assert response.json()["fields"]["can_database_file"].startswith("The DBC cannot be read")
    assert stored_dbc(alpha, bare_type.pk) == ""


def test_the_page_of_a_foxbms_battery_without_a_dbc_says_where_to_upload_it(alpha, bare_type):
    battery = make_battery(alpha, type=bare_type, connector="foxbms")
    page = alpha.http("operator").get(f"/battery/{battery.pk}/").content.decode()
    banner = page.split('data-testid="dbc-missing"')[1].split("</div>")[0]
    assert (
        "Upload your foxBMS DBC on the battery type “foxBMS container” first "
        f"(portal: Types; API: can_database_file on /api/v1/telemetry/types/{bare_type.pk}/)."
    ) in banner
    assert f'href="/types/{bare_type.pk}/edit/"' in banner


def test_a_nul_in_a_text_field_of_a_multipart_upload_is_a_400_naming_the_field(alpha, bare_type, mini_dbc_text):
    response = alpha.api().patch(
        f"/api/v1/telemetry/types/{bare_type.pk}/",
        encode_multipart(BOUNDARY, {"description": "a\x00b", "can_database_file": dbc_file(mini_dbc_text)}),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["description"]
    assert stored_dbc(alpha, bare_type.pk) == ""


def test_a_dbc_file_with_a_nul_byte_is_refused_without_echoing_it(alpha, bare_type):
    response = alpha.api().patch(
        f"/api/v1/telemetry/types/{bare_type.pk}/",
        encode_multipart(BOUNDARY, {"can_database_file": dbc_file('VERSION ""\n\x00\x01binary')}),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 400
    assert response.json()["fields"]["can_database_file"] == (
        "The DBC contains a NUL character: it is not a DBC text file."
    )
