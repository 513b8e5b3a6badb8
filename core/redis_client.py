"""One Redis client per process, for the hot paths that talk to Redis on every request.

Django's cache handler keeps a cache object per asynchronous context, and under ASGI each request
is its own context: going through `django.core.cache.cache` opened a new connection (a TCP
handshake and a HELLO) for every API call. This client's connection pool lives as long as the
process and is shared by its threads.
"""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def shared_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
