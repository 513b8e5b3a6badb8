"""One per-process cache (core.process_cache) for threads and the event loop: what the heartbeat
fast path relies on (one load for concurrent misses, an expired value served while it refreshes,
what is known served while the database is down) and what Django's lookups rely on (an expired
value loaded again before it is used), over the same entries."""

import asyncio
import time

import pytest
from django.db import OperationalError
from django_tenants.utils import schema_context

from accounts import key_cache
from accounts.key_cache import afind_key, find_key, forget_revoked
from accounts.models import hash_api_key
from core.process_cache import ProcessCache
from tenants import host_cache
from tenants.host_cache import atenant_for_host, tenant_for_host
from tests.conftest import run_async


@pytest.fixture
def cache(settings) -> ProcessCache:
    settings.TEST_PROCESS_CACHE_SECONDS = 60
    return ProcessCache("TEST_PROCESS_CACHE_SECONDS")


class Loads:
    """A load that counts its calls, answers `value` after `delay` seconds, or raises `error`."""

    def __init__(self, value: object = "fresh", delay: float = 0.0):
        self.value, self.delay, self.error, self.calls = value, delay, None, 0

    async def __call__(self) -> object:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.value


def expire(cache: ProcessCache, slot) -> None:
    _expires, value = cache._entries[slot]
    cache._entries[slot] = (time.monotonic() - 1, value)


def test_threads_and_the_event_loop_share_what_is_remembered(cache):
    cache.get("slot", lambda: "from a thread")
    load = Loads()

    assert run_async(cache.aget("slot", load)) == "from a thread"
    assert load.calls == 0


def test_concurrent_misses_of_one_slot_share_a_single_load(cache):
    load = Loads(delay=0.05)

    async def many():
        return await asyncio.gather(*(cache.aget("slot", load) for _ in range(50)))

    assert run_async(many()) == ["fresh"] * 50
    assert load.calls == 1


def test_an_expired_value_keeps_serving_while_one_refresh_runs(cache):
    cache.get("slot", lambda: "known")
    expire(cache, "slot")
    load = Loads("refreshed", delay=0.05)

    async def during_and_after():
        during = await asyncio.gather(*(cache.aget("slot", load) for _ in range(20)))
        await asyncio.sleep(0.1)
        return during, await cache.aget("slot", load)

    during, after = run_async(during_and_after())
    assert during == ["known"] * 20 and after == "refreshed"
    assert load.calls == 1


def test_what_is_known_keeps_serving_when_the_database_refuses_a_refresh(cache):
    cache.get("slot", lambda: "known")
    expire(cache, "slot")
    load = Loads()
    load.error = OperationalError("connection refused")

    async def twice():
        first = await cache.aget("slot", load)
        await asyncio.sleep(0.01)  # the refresh fails meanwhile
        return first, await cache.aget("slot", load)

    assert run_async(twice()) == ("known", "known")


def test_a_miss_the_database_refuses_raises(cache):
    load = Loads()
    load.error = OperationalError("connection refused")

    with pytest.raises(OperationalError):
        run_async(cache.aget("slot", load))


def test_threads_load_an_expired_value_again_before_using_it(cache):
    cache.get("slot", lambda: "known")
    expire(cache, "slot")

    assert cache.get("slot", lambda: "reloaded") == "reloaded"


def test_none_is_never_remembered_and_forgets_what_was(cache):
    load = Loads(None)
    run_async(cache.aget("slot", load))
    run_async(cache.aget("slot", load))
    assert load.calls == 2

    cache.get("other", lambda: "known")
    expire(cache, "other")
    assert cache.get("other", lambda: None) is None
    assert "other" not in cache._entries


def test_a_load_under_way_when_the_cache_is_cleared_is_not_remembered(cache):
    async def cleared_meanwhile():
        load = Loads("read before the change", delay=0.05)
        pending = asyncio.ensure_future(cache.aget("slot", load))
        await asyncio.sleep(0.01)
        cache.clear()  # what it remembers changed in this process
        return await pending

    assert run_async(cleared_meanwhile()) == "read before the change"  # the caller asked before
    assert "slot" not in cache._entries


def test_zero_seconds_turns_the_cache_off(cache, settings):
    settings.TEST_PROCESS_CACHE_SECONDS = 0
    load = Loads()
    run_async(cache.aget("slot", load))
    run_async(cache.aget("slot", load))

    assert load.calls == 2
    assert cache.get("slot", lambda: "a") == "a" and cache.get("slot", lambda: "b") == "b"


def not_again(*_args):
    raise AssertionError("looked up again")


def test_the_fast_path_finds_the_key_django_remembered_and_forgets_it_for_both(alpha, monkeypatch):
    key_hash = hash_api_key(alpha.api_token)
    with schema_context("alpha"):
        key = find_key(key_hash)
    monkeypatch.setattr(key_cache, "_active_key_in", not_again)

    assert run_async(afind_key("alpha", key_hash)) is key  # no lookup, no copy of its own

    forget_revoked("alpha", key_hash)
    monkeypatch.undo()
    with schema_context("alpha"):
        assert find_key(key_hash) is not key  # read again


def test_the_fast_path_finds_the_tenant_django_resolved(alpha, monkeypatch):
    tenant = tenant_for_host(alpha.host)
    monkeypatch.setattr(host_cache, "_load", not_again)

    remembered = run_async(atenant_for_host(alpha.host))

    assert remembered.schema_name == tenant.schema_name == "alpha"
    assert remembered is not tenant  # each caller gets its own copy to annotate
