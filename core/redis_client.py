"""One Redis client per process (`shared_redis`, and `shared_async_redis` for the event loop), for
the hot paths that talk to Redis on every request, and the breaker that lets them carry on without
Redis.

Django's cache handler keeps a cache object per asynchronous context, and under ASGI each request
is its own context: going through `django.core.cache.cache` opened a new connection (a TCP
handshake and a HELLO) for every API call. This client's connection pool lives as long as the
process and is shared by its threads.

Redis is an accelerator here, never the source of truth (keys and revocations are in PostgreSQL),
so a Redis that is down or frozen must cost a request at most one short timeout: every call is
bounded by `REDIS_TIMEOUT_S`, and once a call failed, `redis_breaker` makes every caller skip Redis
for `REDIS_BREAKER_SECONDS` instead of each waiting on its own timeout. A connection that went
stale (Redis restarted) is replaced and the command sent again, once.
"""

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TypeVar

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Failures that mean "Redis cannot be reached now" (a refused, reset or timed-out connection,
# a server still loading its data), as opposed to a bad command.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, OSError)


class RedisUnavailable(Exception):
    """Redis is down, frozen, or failed moments ago: do without it."""


class RedisBreaker:
    """Open for a few seconds after a failure: callers skip Redis at once instead of each waiting
    on a timeout. Shared by every thread and event loop of the process."""

    def __init__(self) -> None:
        self._open_until = 0.0
        self._lock = threading.Lock()
        # Outages this process noticed: whoever remembers what Redis said (a key is not revoked)
        # forgets it when this changes, since Redis missed whatever happened meanwhile.
        self.outages = 0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, error: BaseException) -> None:
        with self._lock:
            was_closed = not self.is_open
            self._open_until = time.monotonic() + settings.REDIS_BREAKER_SECONDS
            self.outages += was_closed
        if was_closed:  # one line per outage, not one per request
            logger.warning(
                "Redis unreachable (%s: %s); doing without it for %s s",
                type(error).__name__,
                error,
                settings.REDIS_BREAKER_SECONDS,
            )

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


redis_breaker = RedisBreaker()


def client_options() -> dict:
    """Connection options for every Redis client on a request path (sync or asyncio)."""
    return {
        "socket_timeout": settings.REDIS_TIMEOUT_S,
        "socket_connect_timeout": settings.REDIS_TIMEOUT_S,
        "socket_keepalive": True,
        # A connection idle for this long is pinged before use: one that died with a restarted
        # Redis is noticed there, and replaced by the retry below, instead of failing the command.
        "health_check_interval": 30,
    }


def _url() -> str:
    return settings.CACHES["default"]["LOCATION"]


@lru_cache(maxsize=1)
def shared_redis() -> redis.Redis:
    return redis.Redis.from_url(
        _url(),
        # One new connection and one more try on a broken connection (stale after a restart);
        # never on a timeout, which would double the wait on a frozen server.
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        **client_options(),
    )


# An asyncio connection belongs to the event loop that opened it: one client per loop, which in a
# server process means one (tests run several loops, one after another).
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def shared_async_redis() -> aioredis.Redis:
    """`shared_redis` for code on the event loop (the heartbeat fast path)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = aioredis.Redis.from_url(
            _url(), retry=AsyncRetry(NoBackoff(), 1, supported_errors=(aioredis.ConnectionError,)), **client_options()
        )
    return client


def guarded(operation: Callable[[redis.Redis], T]) -> T:
    """`operation(client)` on the shared client; RedisUnavailable if Redis cannot be reached now."""
    if redis_breaker.is_open:
        raise RedisUnavailable
    try:
        return operation(shared_redis())
    except UNREACHABLE as error:
        redis_breaker.trip(error)
        raise RedisUnavailable from error


async def aguarded(operation: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
    """`guarded` for code on the event loop: `await operation(client)` on its shared client."""
    if redis_breaker.is_open:
        raise RedisUnavailable
    try:
        return await operation(shared_async_redis())
    except UNREACHABLE as error:
        redis_breaker.trip(error)
        raise RedisUnavailable from error
