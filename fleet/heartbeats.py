"""Heartbeats at fleet scale: thousands of devices every 30 s.

`POST /api/v1/fleet/heartbeat` is answered here, in async code in front of Django, when it is
routine: a known tenant, a valid key, a known device that is not offline. The payload is
validated by the same serializer as the Django view; the key's throttle counter, its revocation and
the device's last-seen time are one pipelined Redis round-trip. Last-seen times are written to
PostgreSQL in bulk by `flush_heartbeats` (Celery beat, and before every offline sweep).

Anything else (unknown device to register, offline device whose alert must resolve, unknown key,
errors) goes to the Django view unchanged, so the behaviour is the same on both paths. To decide, it
asks what Django asks, through the same lookups and the same per-process caches: the tenant of the
host (`tenants.host_cache`), the key (`accounts.key_cache`), the tenant's allowance and the
throttle's counter (`accounts.throttling`), whether the key may report for the device
(`fleet.device_keys`), on the process's Redis client (`core.redis_client`).

Outages: while Redis cannot be reached (`core.redis_client.redis_breaker`), every heartbeat goes to
Django, which answers from PostgreSQL; while PostgreSQL cannot be reached, tenants, keys and devices
this process already knows keep being answered here (Redis holds what a heartbeat writes), and the
others go to Django, which says the database is unavailable.
"""

import json
import logging
import time

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tenants.utils import remove_www, schema_context
from psycopg import Error as PsycopgError
from redis.asyncio import Redis as AsyncRedis
from redis.commands.core import AsyncScript
from rest_framework.utils.mediatypes import media_type_matches

from accounts.authentication import api_key_from_headers
from accounts.key_cache import REVOKED_KEYS, afind_key, forget_revoked
from accounts.services import key_hash_of
from accounts.throttling import key_identity, tenant_allowance, throttle_key
from core.api.errors import error_body
from core.api.parsers import FastJSONParser
from core.db import RETRY_AFTER_S
from core.decoding import BadInput, decode_json
from core.process_cache import ProcessCache
from core.redis_client import RedisUnavailable, aguarded, guarded, redis_breaker
from core.views import database_unavailable_detail
from fleet.device_keys import may_report_for
from fleet.models import Device
from fleet.payloads import HeartbeatPayload
from tenants.host_cache import atenant_for_host

logger = logging.getLogger(__name__)
PATH = "/api/v1/fleet/heartbeat"
MAX_BODY = 16 * 1024
LAST_SEEN = "voltwatch:fleet:last-seen:{schema}"
OFFLINE = "voltwatch:fleet:offline:{schema}"

# One round-trip: refuse revoked keys, offline devices (Django resolves their alert) and keys over
# their rate; otherwise count the request and note when the device was seen.
HEARTBEAT_SCRIPT = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return -1 end
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then return -2 end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if count > tonumber(ARGV[4]) then return -3 end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
return count
"""
REVOKED = -1  # what the script answers for a revoked key

# A tenant's devices (external id → pk), one entry per tenant: one query serves every heartbeat.
_devices = ProcessCache("FLEET_DEVICE_CACHE_SECONDS")


def _load_devices(schema: str) -> dict[str, int]:
    with schema_context(schema):
        return dict(Device.objects.values_list("external_id", "pk").order_by())


def mark_offline(schema: str, site_ids: list[str], offline: bool) -> None:
    """Keep the fast path's view of offline devices current (their heartbeats go to Django).
    Best effort: while Redis is down the fast path is off anyway."""

    if not site_ids:
        return
    key = OFFLINE.format(schema=schema)
    try:
        guarded(lambda client: client.sadd(key, *site_ids) if offline else client.srem(key, *site_ids))
    except RedisUnavailable:
        logger.warning("Redis unreachable: %s devices of %s not marked offline=%s", len(site_ids), schema, offline)


class HeartbeatFastPath:
    def __init__(self, django_app):
        self.django_app = django_app
        self.script: AsyncScript | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            return await self.django_app(scope, receive, send)
        body, more = await self._read_body(receive)
        if body is not None and not more:
            try:
                response = await self._try(scope, body)
            except (DatabaseError, PsycopgError):  # Django would wait for the database again
                return await self._send_database_unavailable(send)
            if response is not None:
                return await self._send_json(send, *response)
        return await self.django_app(scope, self._replay(body or b"", more, receive), send)

    @staticmethod
    async def _read_body(receive) -> tuple[bytes | None, bool]:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None, False
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BODY:
                return b"".join(chunks), message.get("more_body", False)
            if not message.get("more_body", False):
                return b"".join(chunks), False

    @staticmethod
    def _replay(body: bytes, more: bool, receive):
        sent = False

        async def replayed():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        return replayed

    async def _try(self, scope, body: bytes) -> tuple[int, dict] | None:
        """The response for a routine heartbeat, or None to let Django answer."""
        if redis_breaker.is_open:
            return None  # Django answers from PostgreSQL (and nothing is remembered meanwhile)

        headers = {k.decode("latin1").title(): v.decode("latin1") for k, v in scope["headers"]}
        token = api_key_from_headers(
            {"Authorization": headers.get("Authorization", ""), "X-API-Key": headers.get("X-Api-Key", "")}
        )
        host = remove_www(headers.get("Host", "").split(":")[0].lower())  # as TenantMiddleware reads it
        if scope.get("query_string"):
            return None  # a heartbeat has none: Django checks whatever was sent, as on every path
        if not token or not host or not media_type_matches(FastJSONParser.media_type, headers.get("Content-Type", "")):
            return None  # Django refuses another content type (415), as for any JSON endpoint
        try:
            data = decode_json(body)  # the API's own front door: its limits, and Django names the fault
        except BadInput:
            return None
        payload = HeartbeatPayload(data=data)
        if not payload.is_valid():
            return None
        site_id = payload.validated_data["siteId"]

        tenant = await atenant_for_host(host)
        if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME or not tenant.is_active:
            return None  # no such portal, or a suspended one: Django says so
        schema = tenant.schema_name
        key_hash = key_hash_of(token)
        if key_hash is None:
            return None
        key = await afind_key(schema, key_hash)
        if key is None or "ingest" not in key.scopes:
            return None
        devices = await _devices.aget(schema, lambda: database_sync_to_async(_load_devices)(schema))
        device_pk = devices.get(site_id)
        if device_pk is None:
            _devices.forget(schema)  # Django registers it; the next heartbeat reloads the map
            return None
        if not may_report_for(key.bound_to, device_pk):
            return None  # a key of another device: Django refuses it

        limit, period = tenant_allowance(tenant)
        now = time.time()
        window = int(now // period)
        counted = throttle_key(schema=schema, identity=key_identity(key.pk), period=period, window=window)
        try:
            outcome = await aguarded(
                lambda client: self._script_on(client)(
                    keys=[counted, REVOKED_KEYS, OFFLINE.format(schema=schema), LAST_SEEN.format(schema=schema)],
                    args=[key_hash, site_id, repr(now), limit, period + 1],
                )
            )
        except RedisUnavailable:
            return None
        if outcome < 0:
            if outcome == REVOKED:
                forget_revoked(schema, key_hash)
            return None  # revoked (401), offline (resolve its alert) or throttled (429): Django answers
        return 200, {"status": "ok", "siteId": site_id, "registered": False, "serverTime": timezone.now().isoformat()}

    def _script_on(self, client: AsyncRedis) -> AsyncScript:
        """The heartbeat script on `client` (the process's client for this event loop)."""
        if self.script is None or self.script.registered_client is not client:
            self.script = client.register_script(HEARTBEAT_SCRIPT)
        return self.script

    async def _send_database_unavailable(self, send) -> None:
        """What Django answers while PostgreSQL cannot be reached (core.api.errors)."""

        body = error_body("database_unavailable", database_unavailable_detail())
        await self._send_json(send, 503, body, [(b"retry-after", str(RETRY_AFTER_S).encode())])

    @staticmethod
    async def _send_json(send, status: int, body: dict, headers: list | None = None) -> None:
        content = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _take_last_seen(client, source: str) -> dict:
    """The collected last-seen times, taken out of Redis in one transaction (empty when none)."""
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(source)
    pipe.delete(source)
    seen, _deleted = pipe.execute()
    return seen


def flush_heartbeats(schema: str) -> int:
    """Write the last-seen times the fast path collected into the devices, in one statement.
    RedisUnavailable while Redis cannot be reached: what it holds is unknown until it is back."""
    seen = guarded(lambda client: _take_last_seen(client, LAST_SEEN.format(schema=schema)))
    if not seen:
        return 0
    rows = [(site_id.decode(), float(stamp)) for site_id, stamp in seen.items()]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE fleet_device SET last_seen = to_timestamp(v.stamp) FROM unnest(%s::text[], %s::float8[]) "
            "AS v(site_id, stamp) WHERE fleet_device.external_id = v.site_id "
            "AND (fleet_device.last_seen IS NULL OR fleet_device.last_seen < to_timestamp(v.stamp))",
            [[r[0] for r in rows], [r[1] for r in rows]],
        )
    return len(rows)
