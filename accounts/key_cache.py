"""API keys found by their hash, remembered for a few seconds per process.

Every API call looks its key up: an ORM query whose compilation cost more CPU than the rest of a
small request. A remembered key is still checked against the set of revoked keys in Redis on
every use (`REVOKED_KEYS`, written by `accounts.services.revoke_api_key`), so a revocation takes
effect at once everywhere; a key saved or deleted in this process is forgotten at once; anything
else (a key deleted by another process) is seen within `API_KEY_CACHE_SECONDS` (10 by default;
0 turns the cache off). Unknown keys are never remembered.

PostgreSQL is the source of truth: while Redis cannot be reached, nothing remembered is trusted
and every key is read from the database (where a revocation is always written first).
"""

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.process_cache import ProcessCache
from core.redis_client import RedisUnavailable, guarded, redis_breaker

REVOKED_KEYS = "voltwatch:revoked-keys"  # hashes of revoked keys, for every path that remembers keys
_keys = ProcessCache("API_KEY_CACHE_SECONDS")
_outages_seen = redis_breaker.outages


def find_key(key_hash: str, load):
    """The active key with `key_hash` in the current schema, or None; `load(key_hash)` reads it."""
    global _outages_seen
    if not _keys.enabled:
        return load(key_hash)
    if _outages_seen != redis_breaker.outages:  # keys revoked meanwhile may never reach Redis
        forget_all()
        _outages_seen = redis_breaker.outages
    if redis_breaker.is_open:
        return load(key_hash)  # nothing is remembered while Redis cannot hear of revocations
    key = _keys.get((connection.schema_name, key_hash), lambda: load(key_hash))
    if key is None:
        return None
    try:
        revoked = guarded(lambda client: client.sismember(REVOKED_KEYS, key_hash))
    except RedisUnavailable:
        return load(key_hash)
    if revoked:
        forget_all()  # revoked in another process since this one remembered it
        return None
    return key


def forget_all() -> None:
    _keys.clear()


@receiver([post_save, post_delete], sender="accounts.ApiKey")
def _key_changed(**_kwargs) -> None:
    forget_all()
