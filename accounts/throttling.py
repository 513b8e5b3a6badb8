import threading
import time

from django.conf import settings
from django.db import connection
from rest_framework.throttling import BaseThrottle

from accounts.authentication import ApiKeyPrincipal
from core.redis_client import RedisUnavailable, guarded

PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
PERIOD_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _sep, period = rate.partition("/")
    seconds = PERIODS.get(period.strip().lower())
    if not count.strip().isdigit() or seconds is None:
        raise ValueError(f"{rate!r} is not a rate like '600/min', '20/s' or '10000/hour'")
    return int(count), seconds


def tenant_allowance(tenant: object | None) -> tuple[int, int]:
    """How many requests one caller of `tenant` may make in how many seconds: the tenant's own rate
    when staff set one, else the platform's (`API_KEY_RATE`)."""
    return parse_rate((getattr(tenant, "api_rate", "") or settings.API_KEY_RATE).strip())


def throttle_key(*, schema: str, identity: str, period: int, window: int) -> str:
    """The Redis key that counts one caller's requests in one window of one tenant: the same for the
    API (`ApiKeyRateThrottle`) and the heartbeat fast path, so both draw on one allowance."""
    return f"{schema}:throttle:{identity}:{period}:{window}"


def key_identity(key_pk: int) -> str:
    return f"key:{key_pk}"


class ProcessWindows:
    """Fixed-window counters in this process's memory, for when Redis cannot count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}

    def increment(self, key: str, window: int) -> int:
        with self._lock:
            counted_window, count = self._counts.get(key, (window, 0))
            count = count + 1 if counted_window == window else 1
            if len(self._counts) > 100_000:
                self._counts.clear()
            self._counts[key] = (window, count)
            return count


_process_windows = ProcessWindows()


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed-window counter per API key (or per portal user) in Redis.

    INCR is atomic, so concurrent requests of one key cannot slip past the limit. Keys are
    `throttle_key`s, sent on the process's shared Redis client. The tenant's own
    rate, when staff set one, replaces the platform default. While Redis cannot be reached, each
    process counts on its own (`ProcessWindows`): the limit then holds per process, not overall.
    """

    def allow_request(self, request, view) -> bool:
        ident = self._identity(request)
        if ident is None:
            return True
        self.limit, self.period = tenant_allowance(getattr(request, "tenant", None))
        now = time.time()
        window = int(now // self.period)
        key = throttle_key(schema=connection.schema_name, identity=ident, period=self.period, window=window)
        try:
            count = guarded(lambda client: self._count_in_redis(client, key))
        except RedisUnavailable:
            count = _process_windows.increment(key, window)
        self.retry_after = max(1, int((window + 1) * self.period - now + 0.999))
        request.throttle_description = f"{self.limit} requests per {PERIOD_NAMES.get(self.period, f'{self.period} s')}"
        return count <= self.limit

    def _count_in_redis(self, client, key: str) -> int:
        # Create-with-expiry and increment in one round trip (this runs on every API call).
        pipe = client.pipeline(transaction=False)
        pipe.set(key, 0, ex=self.period + 1, nx=True)
        pipe.incr(key)
        _created, count = pipe.execute()
        return count

    def wait(self) -> float:
        return self.retry_after

    @staticmethod
    def _identity(request) -> str | None:
        user = request.user
        if isinstance(user, ApiKeyPrincipal):
            return key_identity(user.key.pk)
        if user is not None and getattr(user, "is_authenticated", False):
            return f"user:{user.pk}"
        return None
