"""Analyses' answers kept in Redis per tenant, data generation, language and filter set: a repeated
request is one GET; an import that changed data bumps the generation, so every older answer is
simply never asked for again (and expires). Redis down: the analysis is computed, never refused."""

import contextlib
from collections.abc import Callable
from decimal import Decimal

import orjson
from django.conf import settings
from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import get_language

from charging.filters import Filters
from charging.selectors import generation
from core.redis_client import RedisUnavailable, guarded


def json_default(value):
    """What orjson cannot write itself: translated labels (lazy) and decimals from SQL sums."""
    if isinstance(value, (Promise, Decimal)):
        return str(value) if isinstance(value, Promise) else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _key(name: str, filters: Filters) -> str:
    return f"charging:{connection.schema_name}:{generation()}:{get_language() or 'en'}:{name}:{filters.cache_key()}"


def cached_json(name: str, filters: Filters, compute: Callable[[], dict]) -> bytes:
    """The analysis's JSON (bytes), from the cache or from `compute()` (then kept)."""
    key = _key(name, filters)
    try:
        hit = guarded(lambda client: client.get(key))
    except RedisUnavailable:
        hit = None
    if hit is not None:
        return hit
    body = orjson.dumps(compute(), option=orjson.OPT_NON_STR_KEYS, default=json_default)
    with contextlib.suppress(RedisUnavailable):
        guarded(lambda client: client.set(key, body, ex=settings.CHARGING_CACHE_S))
    return body
