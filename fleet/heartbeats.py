"""Heartbeats at fleet scale: thousands of devices every 30 s.

`POST /api/v1/fleet/heartbeat` is answered here, in async code in front of Django, when it is
routine: a known tenant, a valid key, a known device that is not offline. The payload is
validated by the same serializer as the Django view; the key's throttle counter, its revocation and
the device's last-seen time are one pipelined Redis round-trip. Last-seen times are written to
PostgreSQL in bulk by `flush_heartbeats` (Celery beat, and before every offline sweep).

Anything else (unknown device to register, offline device whose alert must resolve, unknown key,
errors) goes to the Django view unchanged, so the behaviour is the same on both paths.

Outages: while Redis cannot be reached (`core.redis_client.redis_breaker`), every heartbeat goes to
Django, which answers from PostgreSQL; while PostgreSQL cannot be reached, tenants, keys and devices
this process already knows keep being answered here (Redis holds what a heartbeat writes), and the
others go to Django, which says the database is unavailable.
"""

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from psycopg import Error as PsycopgError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from accounts.authentication import api_key_from_headers
from accounts.key_cache import REVOKED_KEYS
from accounts.models import ApiKey, hash_api_key
from accounts.throttling import key_identity, parse_rate, throttle_key
from core.api.errors import error_body
from core.api.parsers import FastJSONParser
from core.db import RETRY_AFTER_S
from core.decoding import BadInput, decode_json
from core.redis_client import UNREACHABLE, RedisUnavailable, client_options, guarded, redis_breaker
from core.views import database_unavailable_detail
from fleet.models import Device
from fleet.payloads import HeartbeatPayload
from tenants.models import Domain

logger = logging.getLogger(__name__)
PATH = "/api/v1/fleet/heartbeat"
CACHE_SECONDS = 30  # tenants: a suspension reaches the fast path within this
KEY_CACHE_SECONDS = 300  # revocation is immediate anyway (checked in Redis on every heartbeat)
MAX_BODY = 16 * 1024
LAST_SEEN = "voltwatch:fleet:last-seen:{schema}"
OFFLINE = "voltwatch:fleet:offline:{schema}"
DEVICE_MAP_SECONDS = 60

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


@dataclass(frozen=True)
class Tenant:
    schema: str
    rate: str


@dataclass(frozen=True)
class Key:
    pk: int
    scopes: frozenset
    bound_to: str


class TtlCache:
    """Values kept for a few seconds. Concurrent misses of one key share a single load, and an
    expired value keeps serving while one background load refreshes it: without both, a cold start
    or an expiry under load sends every waiting request to the database at once."""

    def __init__(self, seconds: float = CACHE_SECONDS):
        self.seconds = seconds
        self.entries: dict = {}
        self.loading: dict = {}

    def forget(self, key) -> None:
        self.entries.pop(key, None)

    async def _load(self, key, load):
        try:
            value = await load()
        except (DatabaseError, PsycopgError):
            if key in self.entries:  # a refresh: nobody waits for it, keep serving what is known
                logger.warning("could not refresh %r; serving what is known", key, exc_info=True)
                return self.entries[key][1]
            raise
        finally:
            self.loading.pop(key, None)
        if value is not None:
            if len(self.entries) > 50_000:
                self.entries.clear()
            self.entries[key] = (time.monotonic() + self.seconds, value)
        else:
            self.entries.pop(key, None)
        return value

    async def get_or_load(self, key, load):
        entry = self.entries.get(key)
        pending = self.loading.get(key)
        if entry is not None:
            if entry[0] <= time.monotonic() and pending is None:
                self.loading[key] = asyncio.ensure_future(self._load(key, load))  # refresh, keep serving
            return entry[1]
        if pending is None:
            pending = self.loading[key] = asyncio.ensure_future(self._load(key, load))
        return await pending


def _load_tenant(host: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant").filter(domain=host).order_by()[:1]
    client = domain[0].tenant if domain else None
    if client is None or client.schema_name == settings.PUBLIC_SCHEMA_NAME or not client.is_active:
        return None
    return Tenant(client.schema_name, (client.api_rate or settings.API_KEY_RATE).strip())


def _load_key(schema: str, key_hash: str) -> Key | None:
    from django_tenants.utils import schema_context

    with schema_context(schema):
        key = ApiKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).order_by()[:1]
        if not key:
            return None
        return Key(key[0].pk, frozenset(key[0].scopes), key[0].bound_to)


def _load_devices(schema: str) -> dict[str, int]:
    """All of a tenant's devices at once (external id → pk): one query serves every heartbeat."""
    from django_tenants.utils import schema_context

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
        self.tenants, self.keys = TtlCache(), TtlCache(KEY_CACHE_SECONDS)
        self.keys_outages = redis_breaker.outages
        self.devices = TtlCache(DEVICE_MAP_SECONDS)
        self.redis = None
        self.script = None

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

    async def _try(self, scope, body: bytes):
        """The response for a routine heartbeat, or None to let Django answer."""
        from rest_framework.utils.mediatypes import media_type_matches

        if redis_breaker.is_open:
            return None  # Django answers from PostgreSQL (and nothing is remembered meanwhile)
        if self.keys_outages != redis_breaker.outages:  # keys revoked meanwhile may never reach Redis
            self.keys, self.keys_outages = TtlCache(KEY_CACHE_SECONDS), redis_breaker.outages

        headers = {k.decode("latin1").title(): v.decode("latin1") for k, v in scope["headers"]}
        token = api_key_from_headers(
            {"Authorization": headers.get("Authorization", ""), "X-API-Key": headers.get("X-Api-Key", "")}
        )
        host = headers.get("Host", "").split(":")[0].lower()
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

        tenant = await self.tenants.get_or_load(host, lambda: database_sync_to_async(_load_tenant)(host))
        if tenant is None:
            return None
        key_hash = hash_api_key(token)
        key = await self.keys.get_or_load(
            (tenant.schema, key_hash), lambda: database_sync_to_async(_load_key)(tenant.schema, key_hash)
        )
        if key is None or "ingest" not in key.scopes:
            return None
        devices = await self.devices.get_or_load(
            tenant.schema, lambda: database_sync_to_async(_load_devices)(tenant.schema)
        )
        device_pk = devices.get(site_id)
        if device_pk is None:
            self.devices.forget(tenant.schema)  # Django registers it; the next heartbeat reloads the map
            return None
        if key.bound_to and key.bound_to != f"fleet.device:{device_pk}":
            return None  # a key of another device: Django refuses it

        limit, period = parse_rate(tenant.rate)
        now = time.time()
        window = int(now // period)
        counted = throttle_key(schema=tenant.schema, identity=key_identity(key.pk), period=period, window=window)
        if self.redis is None:
            self.redis = aioredis.Redis.from_url(
                settings.REDIS_URL,
                retry=Retry(NoBackoff(), 1, supported_errors=(aioredis.ConnectionError,)),  # stale connection
                **client_options(),
            )
            self.script = self.redis.register_script(HEARTBEAT_SCRIPT)
        try:
            outcome = await self.script(
                keys=[
                    counted,
                    REVOKED_KEYS,
                    OFFLINE.format(schema=tenant.schema),
                    LAST_SEEN.format(schema=tenant.schema),
                ],
                args=[key_hash, site_id, repr(now), limit, period + 1],
            )
        except UNREACHABLE as error:
            redis_breaker.trip(error)
            return None
        if outcome < 0:
            if outcome == -1:
                self.keys.forget((tenant.schema, key_hash))
            return None  # revoked (401), offline (resolve its alert) or throttled (429): Django answers
        return 200, {"status": "ok", "siteId": site_id, "registered": False, "serverTime": timezone.now().isoformat()}

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
    from django.db import connection

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
