"""Values remembered for a few seconds in one process, for lookups every request repeats.

Each cache reads its lifetime from a setting (0 turns it off), never remembers None (an unknown
host or key is asked again next time, so a new one answers at once), and is cleared by its owner
when what it remembers changes in this process; other processes see a change once their entry
expires.

Threads call `get`, which loads an expired value before answering. Code on an event loop calls
`aget`, whose loads are coroutines; it serves thousands of requests a second (the heartbeat fast
path), so an entry's expiry must not hold them up: concurrent misses of one slot share a single
load, an expired value keeps serving while one background load refreshes it, and a refresh the
database refuses keeps serving what is known (the fast path answers the devices it knows while
PostgreSQL is down). Both share the same entries.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Hashable

import psycopg
from django.conf import settings
from django.db import DatabaseError

logger = logging.getLogger(__name__)
MAX_ENTRIES = 50_000  # a bound on what a flood of distinct valid slots can make a process hold
# What a load that reached for the database may raise, raw from psycopg or wrapped by Django.
DATABASE_ERRORS = (DatabaseError, psycopg.Error)


class ProcessCache:
    def __init__(self, seconds_setting: str):
        self.seconds_setting = seconds_setting
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._loading: dict[Hashable, asyncio.Future] = {}
        # Bumped by every clear: a load that began before the clear must not store what it read.
        self._generation = 0

    @property
    def seconds(self) -> float:
        return getattr(settings, self.seconds_setting)

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def get(self, slot: Hashable, load: Callable[[], object]) -> object:
        """The value remembered for `slot`, or what `load()` gives (remembered unless None)."""
        seconds = self.seconds
        if seconds <= 0:
            return load()
        entry = self._entries.get(slot)
        if entry is not None and entry[0] >= time.monotonic():
            return entry[1]
        generation = self._generation
        return self._remember(slot, load(), seconds, generation)

    async def aget(self, slot: Hashable, load: Callable[[], Awaitable[object]]) -> object:
        """`get` for event-loop callers: the value remembered for `slot` (even expired, while one
        refresh by `load()` is under way), or what `await load()` gives."""
        seconds = self.seconds
        if seconds <= 0:
            return await load()
        entry = self._entries.get(slot)
        pending = self._loading.get(slot)
        if pending is not None and pending.get_loop() is not asyncio.get_running_loop():
            pending = None  # left by another event loop (tests run several): of no use on this one
        if entry is not None:
            if entry[0] < time.monotonic() and pending is None:
                self._loading[slot] = asyncio.ensure_future(self._load(slot, load, seconds))
            return entry[1]
        if pending is None:
            pending = self._loading[slot] = asyncio.ensure_future(self._load(slot, load, seconds))
        return await pending

    async def _load(self, slot: Hashable, load: Callable[[], Awaitable[object]], seconds: float) -> object:
        generation = self._generation
        try:
            value = await load()
        except DATABASE_ERRORS:
            entry = self._entries.get(slot)
            if entry is None:
                raise
            # A refresh, which nobody waits for: keep serving what is known.
            logger.warning("could not refresh %r; serving what is known", slot, exc_info=True)
            return entry[1]
        finally:
            self._loading.pop(slot, None)
        return self._remember(slot, value, seconds, generation)

    def _remember(self, slot: Hashable, value: object, seconds: float, generation: int) -> object:
        with self._lock:
            if generation != self._generation:
                return value  # cleared while this was loading: what was read may be what changed
            if value is None:
                self._entries.pop(slot, None)  # gone from the database: not served any longer
                return value
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[slot] = (time.monotonic() + seconds, value)
        return value

    def forget(self, slot: Hashable) -> None:
        with self._lock:
            self._entries.pop(slot, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
