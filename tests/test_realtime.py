"""Live events: one service call reaches every open portal page of one tenant, and no other."""

import asyncio
import json

import pytest
import websockets
import websockets.exceptions

from core.realtime import notify_tenant
from tests.conftest import run_async
from tests.sockets import next_of_type, page_socket


def test_an_event_sent_to_a_tenant_reaches_its_open_pages_only(worlds, asgi_server):
    alpha, beta = worlds["alpha"], worlds["beta"]
    alpha_cookie, beta_cookie = alpha.session_cookie("viewer"), beta.session_cookie("viewer")

    async def scenario():
        async with (
            page_socket(alpha, asgi_server, alpha_cookie) as on_alpha,
            page_socket(beta, asgi_server, beta_cookie) as on_beta,
        ):
            hello = await next_of_type(on_alpha, "hello")
            assert hello["payload"] == {"tenant": "alpha", "user": "viewer@alpha.test"}
            await next_of_type(on_beta, "hello")

            await asyncio.to_thread(notify_tenant, alpha.tenant, "alert.raised", {"title": "Cell over-voltage"})
            received = await next_of_type(on_alpha, "alert.raised")
            assert received["payload"] == {"title": "Cell over-voltage"}

            await asyncio.to_thread(notify_tenant, beta.tenant, "marker", {})
            beta_events = []
            while True:
                message = json.loads(await asyncio.wait_for(on_beta.recv(), 5))
                if message["type"] == "marker":
                    break
                beta_events.append(message["type"])
            assert "alert.raised" not in beta_events

    run_async(scenario())


def test_the_api_can_push_an_event_to_open_pages(worlds, asgi_server):
    import httpx

    alpha = worlds["alpha"]
    cookie = alpha.session_cookie("operator")

    async def scenario():
        async with page_socket(alpha, asgi_server, cookie) as socket:
            await next_of_type(socket, "hello")
            async with httpx.AsyncClient() as http:
                response = await http.post(
                    f"http://127.0.0.1:{asgi_server.port}/api/v1/events",
                    headers={"Host": alpha.host, "Authorization": f"Api-Key {alpha.api_token}"},
                    json={"title": "Maintenance at 14:00", "severity": "warning"},
                )
            assert response.status_code == 202
            event = await next_of_type(socket, "integration.message")
            assert event["payload"] == {"title": "Maintenance at 14:00", "message": "", "severity": "warning"}

    run_async(scenario())


@pytest.mark.parametrize(
    ("case", "expected"),
    [("anonymous", 403), ("cross-origin", 403), ("unknown-host", 403)],
)
def test_websocket_handshakes_without_a_valid_session_are_refused(worlds, asgi_server, case, expected):
    alpha = worlds["alpha"]
    cookie = None if case == "anonymous" else alpha.session_cookie("viewer")
    origin = "http://evil.example" if case == "cross-origin" else None
    target = alpha
    if case == "unknown-host":

        class Nowhere:
            host = "nowhere.localhost"

        target = Nowhere

    async def handshake():
        async with page_socket(target, asgi_server, cookie, origin) as socket:
            await socket.recv()

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        run_async(handshake())
    assert refused.value.response.status_code == expected


def test_a_tenant_has_listeners_while_one_of_its_pages_is_open(worlds, asgi_server, listening_world):
    """Senders of costly live payloads (telemetry) skip building them when no page would get them."""
    from core.realtime import has_listeners, tenant_group

    world = listening_world
    cookie = world.session_cookie("viewer")

    async def scenario():
        before = has_listeners(tenant_group(world.slug))
        async with page_socket(world, asgi_server, cookie) as page:
            await next_of_type(page, "hello")
            during = has_listeners(tenant_group(world.slug))
            elsewhere = has_listeners(tenant_group(worlds["beta"].slug))
        for _ in range(100):  # the server leaves the group once it sees the socket close
            if not has_listeners(tenant_group(world.slug)):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the closed page still counts as a listener")
        return before, during, elsewhere

    assert run_async(scenario()) == (False, True, False)
