"""Websockets that stay open: portal pages and Shelly devices left quiet keep their connection, a
socket that vanishes stops counting as a listener, and a revoked key's open socket is closed.
Against the real ASGI server (uvicorn) with a real client, so the data here is committed."""

import asyncio
import json

import pytest
import websockets
import websockets.exceptions
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import ApiKey
from accounts.services import create_api_key, revoke_api_key
from core.realtime import has_listeners, notify_tenant, tenant_group
from telemetry.models import MeterReading
from tests.conftest import LiveServer, run_async, start_uvicorn
from tests.factories import make_meter
from tests.sockets import next_of_type, page_socket, shelly_socket

QUIET_S = 16  # longer than every timeout between the server and Redis (redis-py 8's default was 5 s)


@pytest.fixture
def shelly(worlds, committed_assets):
    """A meter the server sees, with an ingest key bound to it: (meter, key, token)."""
    alpha = worlds["alpha"]
    meter = committed_assets(make_meter, "meter")
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        key, token = create_api_key(name="shelly", scopes=["ingest"], bound_to=f"meter:{meter.pk}")
    connection.set_schema_to_public()
    return meter, key, token


async def _listeners_within(group: str, seconds: float) -> bool:
    """Whether `group` still has listeners after up to `seconds` of waiting for it to have none."""
    for _ in range(int(seconds * 10)):
        if not await asyncio.to_thread(has_listeners, group):
            return False
        await asyncio.sleep(0.1)
    return True


def _status(meter, ts: float, power: float, **extra) -> str:
    return json.dumps(
        {"src": meter.device_id, "method": "NotifyStatus", "params": {"ts": ts, "switch:0": {"apower": power}}, **extra}
    )


def _powers(world, meter) -> list[float]:
    with world.blocker.unblock(), schema_context(world.slug):
        powers = list(MeterReading.objects.filter(asset_id=meter.pk).order_by("time").values_list("power", flat=True))
    connection.set_schema_to_public()
    return powers


def test_a_page_left_quiet_still_receives_the_next_event(worlds, asgi_server):
    alpha = worlds["alpha"]
    cookie = alpha.session_cookie("viewer")

    async def scenario():
        async with page_socket(alpha, asgi_server, cookie) as page:
            await next_of_type(page, "hello")
            await asyncio.sleep(QUIET_S)
            await asyncio.to_thread(notify_tenant, alpha.tenant, "alert.raised", {"title": "After the quiet"})
            return (await next_of_type(page, "alert.raised"))["payload"]

    assert run_async(scenario()) == {"title": "After the quiet"}


def test_a_shelly_left_quiet_still_reports(worlds, asgi_server, shelly):
    alpha = worlds["alpha"]
    meter, _key, token = shelly

    async def scenario():
        async with shelly_socket(alpha, asgi_server, token) as device:
            await asyncio.sleep(QUIET_S)
            await device.send(_status(meter, 1795500000.5, 640.0, id=1))
            return json.loads(await asyncio.wait_for(device.recv(), 5))

    assert run_async(scenario()) == {"id": 1, "result": {"stored": 1, "duplicates": 0}}
    assert _powers(alpha, meter) == [640.0]


def test_a_page_that_vanishes_after_a_quiet_spell_no_longer_counts_as_a_listener(worlds, asgi_server, listening_world):
    world = listening_world
    cookie = world.session_cookie("viewer")

    async def scenario():
        async with page_socket(world, asgi_server, cookie) as page:
            await next_of_type(page, "hello")
            await asyncio.sleep(QUIET_S)
            listening = await asyncio.to_thread(has_listeners, tenant_group(world.slug))
            page.transport.abort()  # no closing handshake: the connection is simply gone
        return listening, await _listeners_within(tenant_group(world.slug), 5)

    assert run_async(scenario()) == (True, False)


def test_a_page_whose_server_dies_stops_counting_as_a_listener_within_the_group_expiry(worlds, listening_world):
    """A killed server leaves its pages in their groups: they must not count (nor be sent to) for
    channels_redis' default of a day."""
    world = listening_world
    cookie = world.session_cookie("viewer")
    expiry = settings.CHANNEL_LAYERS["default"]["CONFIG"]["group_expiry"]
    process, port = start_uvicorn()

    async def scenario():
        async with page_socket(world, LiveServer(port), cookie) as page:
            await next_of_type(page, "hello")
            listening = await asyncio.to_thread(has_listeners, tenant_group(world.slug))
            process.kill()  # no disconnect runs: the page stays in the group, until it expires
            process.wait(10)
            return listening, await _listeners_within(tenant_group(world.slug), expiry + 3)

    try:
        assert run_async(scenario()) == (True, False)
    finally:
        process.kill()


def test_revoking_a_key_closes_the_open_shelly_socket_using_it(worlds, asgi_server, shelly):
    alpha = worlds["alpha"]
    meter, key, token = shelly

    async def scenario():
        async with shelly_socket(alpha, asgi_server, token) as device:
            await device.send(_status(meter, 1795500000.5, 100.0, id=1))
            assert json.loads(await asyncio.wait_for(device.recv(), 5))["result"]["stored"] == 1
            await asyncio.to_thread(_revoke, alpha, key)
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(device.recv(), 5)
            return closed.value.rcvd.code

    assert run_async(scenario()) == 4401
    assert _powers(alpha, meter) == [100.0]


def test_a_frame_sent_as_soon_as_its_key_is_revoked_is_not_stored(worlds, asgi_server, shelly):
    alpha = worlds["alpha"]
    meter, key, token = shelly

    async def scenario():
        async with shelly_socket(alpha, asgi_server, token) as device:
            await device.send(_status(meter, 1795500000.5, 100.0, id=1))
            await asyncio.wait_for(device.recv(), 5)
            await asyncio.to_thread(_revoke, alpha, key)
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:  # the close may come first
                await device.send(_status(meter, 1795500060.5, 200.0, id=2))
                await asyncio.wait_for(device.recv(), 5)
            return closed.value.rcvd.code

    assert run_async(scenario()) == 4401
    assert _powers(alpha, meter) == [100.0]


def _revoke(world, key) -> None:
    with world.blocker.unblock(), schema_context(world.slug):
        revoke_api_key(key=ApiKey.objects.get(pk=key.pk), by=None)
    connection.set_schema_to_public()
