"""Websocket clients of the real ASGI server, as a portal page and a Shelly device open them."""

import asyncio
import json

import websockets
from django.conf import settings


def page_socket(world, server, cookie: str | None, origin: str | None = None):
    """`/ws/notifications/` as a portal page of `world` opens it (signed in when `cookie` is a session)."""
    headers = {}
    if cookie:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    if origin:
        headers["Origin"] = origin
    return websockets.connect(
        f"ws://{world.host}:{server.port}/ws/notifications/",
        host="127.0.0.1",
        port=server.port,
        additional_headers=headers,
        open_timeout=10,
    )


def shelly_socket(world, server, token: str):
    """A Shelly's outbound websocket to `world`, with the key `token` in its URL."""
    return websockets.connect(
        f"ws://{world.host}:{server.port}/ws/shelly/{token}/", host="127.0.0.1", port=server.port, open_timeout=10
    )


async def next_of_type(socket, event_type: str, timeout: float = 5.0) -> dict:
    """The next message of `event_type` on `socket` (others are skipped)."""

    async def wait():
        while True:
            message = json.loads(await socket.recv())
            if message["type"] == event_type:
                return message

    return await asyncio.wait_for(wait(), timeout)
