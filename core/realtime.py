"""Push events to the open portal pages of one tenant, from any server code, in one call.

Pushes are best effort (the database stays the source of truth) and must never hold up the code
that sends them: while Redis is down (see `core.redis_client.redis_breaker`) nothing is sent and
nobody is listening; a send is bounded by a short timeout. Pages reconnect by themselves when the
server closes their socket (static/js/portal.js), and join their groups again once Redis is back.
"""

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache

import orjson
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from core.redis_client import UNREACHABLE, client_options, redis_breaker

logger = logging.getLogger(__name__)


def tenant_group(schema_name: str) -> str:
    return f"tenant.{schema_name}"


def user_group(schema_name: str, user_id: int) -> str:
    return f"tenant.{schema_name}.user.{user_id}"


def api_key_group(schema_name: str, key_id: int) -> str:
    """The open websockets that authenticated with one API key (devices' sockets)."""
    return f"tenant.{schema_name}.api-key.{key_id}"


def close_sockets(group: str, *, code: int) -> bool:
    """Close every websocket in `group` with `code` (their consumers handle `socket.close`).
    Best effort, like every push: consumers that must not outlive a revocation check again anyway."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": "socket.close", "code": code})
    except Exception:
        logger.warning("could not close the sockets of %s", group, exc_info=True)
        return False
    return True


def _schema_of(tenant) -> str:
    return tenant if isinstance(tenant, str) else tenant.schema_name


_ENCODER = DjangoJSONEncoder()


def _message(event_type: str, payload: dict, *, json_safe: bool = False) -> dict:
    return {
        "type": "tenant.event",
        "event_type": event_type,
        # Made JSON-safe here so datetimes, decimals and UUIDs survive the channel layer, unless the
        # caller built it from JSON types only (live telemetry: thousands of points a second).
        "payload": payload if json_safe else orjson.loads(orjson.dumps(payload, default=_ENCODER.default)),
        "sent_at": datetime.now(UTC).isoformat(),
    }


def has_listeners(group: str) -> bool:
    """Whether any open page is in `group`, so that a sender with a costly payload can skip building
    it. Reads the channel layer's group membership as `group_send` would, with a plain Redis client
    (a sender in a thread then needs no event loop); True when unsure, False while Redis is down
    (nothing could reach a page anyway)."""
    layer = get_channel_layer()
    if hasattr(layer, "_group_key") and redis_breaker.is_open:
        return False
    try:
        if hasattr(layer, "_group_key"):  # channels_redis: a sorted set of channel names by join time
            client = _membership_client(layer.consistent_hash(group))
            return client.zcount(layer._group_key(group), int(time.time()) - layer.group_expiry, "+inf") > 0
        if hasattr(layer, "groups"):  # the in-memory layer
            return bool(layer.groups.get(group))
    except UNREACHABLE as error:
        redis_breaker.trip(error)
        return False
    except Exception:
        logger.warning("could not read the listeners of %s", group, exc_info=True)
    return True


@lru_cache(maxsize=16)
def _membership_client(index: int) -> redis.Redis:
    host = get_channel_layer().hosts[index]
    options = {name: value for name, value in host.items() if name != "address"} | client_options()
    return redis.Redis.from_url(host["address"], **options) if "address" in host else redis.Redis(**options)


async def anotify_tenant(
    tenant, event_type: str, payload: dict, *, user_id: int | None = None, json_safe: bool = False
) -> bool:
    schema = _schema_of(tenant)
    group = user_group(schema, user_id) if user_id is not None else tenant_group(schema)
    layer = get_channel_layer()
    redis_layer = hasattr(layer, "_group_key")
    if redis_layer and redis_breaker.is_open:
        return False
    try:
        send = layer.group_send(group, _message(event_type, payload, json_safe=json_safe))
        # A frozen Redis would hold the sender for the layer's socket timeout (15 s, for idle pages).
        await asyncio.wait_for(send, timeout=settings.REDIS_TIMEOUT_S * 2 if redis_layer else None)
    except UNREACHABLE as error:  # a timeout is an OSError
        if redis_layer:
            redis_breaker.trip(error)
        logger.warning("could not push %s to %s: %s", event_type, group, error)
        return False
    except Exception:  # live updates are best effort: the database stays the source of truth
        logger.warning("could not push %s to %s", event_type, group, exc_info=True)
        return False
    return True


def notify_tenant(
    tenant, event_type: str, payload: dict, *, user_id: int | None = None, json_safe: bool = False
) -> bool:
    """Send `event_type` with `payload` to every open portal page of `tenant` (or of one of its users)."""
    return async_to_sync(anotify_tenant)(tenant, event_type, payload, user_id=user_id, json_safe=json_safe)


_pending = threading.local()


async def _send_batch(batch: list[tuple[str, str, dict]]) -> None:
    for schema, event_type, payload in batch:
        await anotify_tenant(schema, event_type, payload)


def _flush_batch() -> None:
    batch = getattr(_pending, "batch", None)
    _pending.batch = None
    if batch:
        async_to_sync(_send_batch)(batch)


def notify_tenant_after_commit(tenant, event_type: str, payload: dict) -> None:
    """Like `notify_tenant`, once the current transaction commits (never if it rolls back). The
    events of one transaction go out together: a sweep raising a hundred alerts pays one send."""
    item = (_schema_of(tenant), event_type, payload)
    batch = getattr(_pending, "batch", None)
    registered = any(entry[1] is _flush_batch for entry in connection.run_on_commit)
    if batch is not None and registered:
        batch.append(item)
        return
    _pending.batch = [item]
    transaction.on_commit(_flush_batch)
