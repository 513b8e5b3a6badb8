"""Live telemetry over real websockets: pages hear of readings at once; Shelly devices report over
their outbound websocket. Against the real ASGI server, so the data here is committed (and removed)."""

import asyncio
import json
import time

import httpx
import pytest
import websockets
import websockets.exceptions
from django.db import connection
from django_tenants.utils import schema_context

from accounts.services import create_api_key
from telemetry.models import MeterReading
from tests.conftest import run_async
from tests.factories import make_battery, make_meter
from tests.sockets import next_of_type, page_socket, shelly_socket


@pytest.fixture
def committed(worlds, committed_assets):
    """Assets the server process sees (see `committed_assets`), each with an ingest key bound to it."""
    alpha = worlds["alpha"]

    def make(factory, kind, **fields):
        asset = committed_assets(factory, kind, **fields)
        with alpha.blocker.unblock(), schema_context(alpha.slug):
            _key, token = create_api_key(name="device", scopes=["ingest"], bound_to=f"{kind}:{asset.pk}")
        connection.set_schema_to_public()
        return asset, token

    return make


def test_an_open_page_hears_of_new_readings_within_a_second(worlds, asgi_server, committed):
    alpha = worlds["alpha"]
    battery, _token = committed(make_battery, "battery")
    cookie = alpha.session_cookie("viewer")

    async def scenario():
        async with page_socket(alpha, asgi_server, cookie) as page:
            await next_of_type(page, "hello")
            async with httpx.AsyncClient() as client:
                sent = time.monotonic()
                response = await client.post(
                    f"http://127.0.0.1:{asgi_server.port}/api/v1/telemetry/readings",
                    headers={"Host": alpha.host, "Authorization": f"Api-Key {alpha.api_token}"},
                    json={"readings": [
                        {"asset": battery.serial, "time": f"2026-11-24T10:00:0{second}Z",
                         "values": {"voltage": voltage, "soc": 77}}
                        for second, voltage in ((0, 51.2), (1, 51.3))
                    ]},
                )  # fmt: skip
                assert response.status_code == 201
            event = await next_of_type(page, "telemetry.readings")
            assert time.monotonic() - sent < 1.0
            [payload] = event["payload"]["updates"]
            assert (payload["kind"], payload["asset"], payload["count"]) == ("battery", battery.pk, 2)
            assert payload["latest"]["values"]["voltage"] == 51.3
            assert payload["points"]["voltage"] == [51.2, 51.3]
            assert payload["points"]["t"] == [1795514400000, 1795514401000]

    run_async(scenario())


def test_a_shelly_reports_over_its_outbound_websocket(worlds, asgi_server, committed):
    alpha = worlds["alpha"]
    meter, token = committed(make_meter, "meter", device_id="shellypro1pm-30c6f782d2b9")
    full = {
        "src": meter.device_id,
        "method": "NotifyFullStatus",
        "params": {
            "ts": 1795500000.5,
            "switch:0": {"id": 0, "output": True, "apower": 800.0, "voltage": 230.5, "current": 3.5,
                         "aenergy": {"total": 100.0}},
        },
    }  # fmt: skip
    partial = {
        "src": meter.device_id,
        "method": "NotifyStatus",
        "params": {"ts": 1795500060.5, "switch:0": {"apower": 950.0}},
    }

    async def scenario():
        async with shelly_socket(alpha, asgi_server, token) as device:
            await device.send(json.dumps(full))
            await device.send(json.dumps(partial))
            await device.send(
                json.dumps({"id": 7, **partial, "params": {"ts": 1795500120.5, "switch:0": {"apower": 1.0}}})
            )
            reply = json.loads(await asyncio.wait_for(device.recv(), 5))
            assert reply == {"id": 7, "result": {"stored": 1, "duplicates": 0}}

    run_async(scenario())
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        rows = list(MeterReading.objects.filter(asset_id=meter.pk).order_by("time").values_list("power", "voltage"))
    connection.set_schema_to_public()
    assert rows == [(800.0, 230.5), (950.0, 230.5), (1.0, 230.5)]


def test_a_shelly_event_over_its_outbound_websocket_is_recorded_and_alerted(worlds, asgi_server, committed):
    from alerts.models import Alert
    from telemetry.models import Meter

    alpha = worlds["alpha"]
    meter, token = committed(make_meter, "meter", device_id="shellypro1pm-30c6f782d2ba")
    event = {
        "id": 3,
        "src": meter.device_id,
        "method": "NotifyEvent",
        "params": {"ts": 1795500000.5, "events": [{"component": "switch:0", "id": 0, "event": "overvoltage"}]},
    }

    async def scenario():
        async with shelly_socket(alpha, asgi_server, token) as device:
            await device.send(json.dumps(event))
            reply = json.loads(await asyncio.wait_for(device.recv(), 5))
            assert reply == {"id": 3, "result": {"stored": 1, "duplicates": 0}}

    run_async(scenario())
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        events = Meter.objects.get(pk=meter.pk).shelly_events
        alerts = Alert.objects.filter(source_id=meter.device_id)
        raised = list(alerts.values_list("type", "severity", "message"))
        alerts.delete()
    connection.set_schema_to_public()
    assert events == [{"component": "switch:0", "event": "overvoltage", "time": "2026-11-24T06:00:00.500000+00:00"}]
    message = "switch:0: overvoltage protection tripped, the output is off."
    assert raised == [("shelly_overvoltage", "critical", message)]


def test_a_shelly_websocket_with_an_unknown_key_is_refused(worlds, asgi_server):
    async def scenario():
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with shelly_socket(worlds["alpha"], asgi_server, "vw_not-a-key"):
                pass

    run_async(scenario())


def test_thresholds_are_checked_after_the_response_and_raise_the_alert(
    worlds, asgi_server, threshold_checker, committed
):
    from alerts.models import Alert

    alpha = worlds["alpha"]
    battery, token = committed(make_battery, "battery")
    response = httpx.post(
        f"http://127.0.0.1:{asgi_server.port}/api/v1/telemetry/readings",
        headers={"Host": alpha.host, "Authorization": f"Api-Key {token}"},
        json={"readings": [
            {"asset": battery.serial, "time": "2026-11-24T11:00:00Z", "values": {"cell_voltages": [3.3, 4.31, 3.3]}},
            {"asset": battery.serial, "time": "2026-11-24T11:00:01Z", "values": {"cell_voltages": [3.3, 3.31, 3.3]}},
        ]},
    )  # fmt: skip
    assert response.status_code == 201
    deadline, alert = time.monotonic() + 5, None
    while alert is None and time.monotonic() < deadline:
        time.sleep(0.1)
        with alpha.blocker.unblock(), schema_context(alpha.slug):
            alert = Alert.objects.filter(source_id=battery.serial, type="cell_overvoltage").first()
        connection.set_schema_to_public()
    assert alert is not None, "no alert within 5 s"
    assert "4.31" in alert.message  # the spike inside the batch, not the batch's last value
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        alert.delete()
    connection.set_schema_to_public()
