"""API keys found by their hash, remembered for a few seconds per process.

Every API call looks its key up: an ORM query whose compilation cost more CPU than the rest of a
small request. A remembered key is still checked against the set of revoked keys in Redis on
every use (`REVOKED_KEYS`, written by `accounts.services.revoke_api_key`), so a revocation takes
effect at once everywhere; a key saved or deleted in this process is forgotten at once; anything
else (a key deleted by another process) is seen within `API_KEY_CACHE_SECONDS` (10 by default;
0 turns the cache off). Unknown keys are never remembered.

PostgreSQL is the source of truth: while Redis cannot be reached, nothing remembered is trusted
and every key is read from the database (where a revocation is always written first).

Django's requests ask through `find_key`; the heartbeat fast path, on the event loop, through
`afind_key`, which leaves the revocation check to the caller's own Redis round trip. Both share
what is remembered.
"""

from channels.db import database_sync_to_async
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_tenants.utils import schema_context

from accounts.models import ApiKey
from core.process_cache import ProcessCache
from core.redis_client import RedisUnavailable, guarded, redis_breaker

REVOKED_KEYS = "voltwatch:revoked-keys"  # hashes of revoked keys, for every path that remembers keys
_keys = ProcessCache("API_KEY_CACHE_SECONDS")
_outages_seen = redis_breaker.outages


def _active_key(key_hash: str) -> ApiKey | None:
    return next(iter(ApiKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).order_by()[:1]), None)


def _active_key_in(schema: str, key_hash: str) -> ApiKey | None:
    with schema_context(schema):
        return _active_key(key_hash)


def _trusting_remembered_keys() -> bool:
    """Whether remembered keys may be used now: not while Redis cannot hear of revocations, nor
    after it could not (keys revoked meanwhile may never have reached it)."""
    global _outages_seen
    if _outages_seen != redis_breaker.outages:
        forget_all()
        _outages_seen = redis_breaker.outages
    return not redis_breaker.is_open


def find_key(key_hash: str) -> ApiKey | None:
    """The active key with `key_hash` in the current schema, or None."""
    if not _keys.enabled or not _trusting_remembered_keys():
        return _active_key(key_hash)
    slot = (connection.schema_name, key_hash)
    key = _keys.get(slot, lambda: _active_key(key_hash))
    if key is None:
        return None
    try:
        revoked = guarded(lambda client: client.sismember(REVOKED_KEYS, key_hash))
    except RedisUnavailable:
        return _active_key(key_hash)
    if revoked:
        forget_revoked(connection.schema_name, key_hash)
        return None
    return key


async def afind_key(schema: str, key_hash: str) -> ApiKey | None:
    """The key with `key_hash` in `schema` as this process remembers it (loaded when it does not),
    or None; also None while remembered keys cannot be trusted (Redis down), for the caller to hand
    the request to `find_key`. The caller must check `REVOKED_KEYS` itself, in the round trip it
    makes anyway, and call `forget_revoked` for a key found there."""
    if not _trusting_remembered_keys():
        return None
    return await _keys.aget((schema, key_hash), lambda: database_sync_to_async(_active_key_in)(schema, key_hash))


def forget_revoked(schema: str, key_hash: str) -> None:
    """A remembered key found revoked (in another process, since this one remembered it)."""
    _keys.forget((schema, key_hash))


def forget_all() -> None:
    _keys.clear()


@receiver([post_save, post_delete], sender="accounts.ApiKey")
def _key_changed(**_kwargs) -> None:
    forget_all()
