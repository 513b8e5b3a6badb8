"""Redis down or frozen: every request still answers, at once, from PostgreSQL (the source of truth
for keys and revocations); a revocation still works and reaches Redis when it is back.

Each test runs a real uvicorn server on a Redis server of its own (tests/outages.py), which it
stops, freezes or restarts; the machine's shared Redis is never touched."""

import asyncio
import json
import time
from datetime import UTC, datetime

import httpx
import pytest
import redis
import websockets
from django.db import connection
from django_tenants.utils import schema_context

from accounts.key_cache import REVOKED_KEYS
from tests.conftest import LiveServer, run_async, start_uvicorn
from tests.factories import make_battery
from tests.outages import RedisServer

pytestmark = pytest.mark.timeout(120)
CSRF_TOKEN = "outagecsrftoken0123456789abcdefg"  # 32 characters: a token Django accepts in a cookie


@pytest.fixture
def own_redis():
    server = RedisServer().start()
    yield server
    server.stop()


def serve(own_redis, **env) -> tuple:
    return start_uvicorn(REDIS_URL=own_redis.url, REDIS_BREAKER_SECONDS="1", **env)


@pytest.fixture
def server(worlds, own_redis):
    process, port = serve(own_redis)
    yield LiveServer(port)
    process.terminate()
    process.wait(10)


@pytest.fixture
def known_device(committed_device):
    """A device registered and online, committed so the server process sees it."""
    return committed_device("outage-pi-1", "OUTAGEVILLE")


def call(server, world, method: str, path: str, token: str | None = None, **kwargs) -> tuple[httpx.Response, float]:
    """The response and how long it took, as a client sees them."""
    headers = {"Host": world.host, **kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Api-Key {token}"
    started = time.perf_counter()
    response = httpx.request(method, f"http://127.0.0.1:{server.port}{path}", headers=headers, timeout=30, **kwargs)
    return response, time.perf_counter() - started


def beat(server, world, token: str, site_id: str = "outage-pi-1") -> tuple[httpx.Response, float]:
    return call(server, world, "POST", "/api/v1/fleet/heartbeat", token, json={"siteId": site_id})


def eventually(check, timeout: float = 15):
    """The first truthy result of `check()` within `timeout` seconds (recovery takes a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_api_calls_with_a_key_answer_at_once_while_redis_is_stopped(worlds, server, own_redis):
    alpha = worlds["alpha"]
    assert call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200
    own_redis.stop()

    for _ in range(3):
        response, seconds = call(server, alpha, "GET", "/api/v1/me", alpha.api_token)
        assert response.status_code == 200
        assert response.json()["tenant"]["name"] == "Alpha Energy"
        assert seconds < 2

    own_redis.start()
    assert eventually(lambda: call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200)


def test_api_calls_with_a_key_answer_at_once_while_redis_is_frozen(worlds, server, own_redis):
    alpha = worlds["alpha"]
    assert call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200
    own_redis.freeze()

    try:
        for _ in range(3):
            response, seconds = call(server, alpha, "GET", "/api/v1/me", alpha.api_token)
            assert response.status_code == 200
            assert seconds < 2
    finally:
        own_redis.thaw()
    assert eventually(lambda: call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200)


def test_readings_are_ingested_while_redis_is_stopped(worlds, server, own_redis, committed_assets, django_db_blocker):
    from telemetry.models import BatteryReading

    alpha = worlds["alpha"]
    battery = committed_assets(make_battery, "battery")
    own_redis.stop()

    body = {
        "kind": "battery",
        "readings": [
            {"asset": battery.serial, "time": datetime(2026, 11, 20, 8, 0, i, tzinfo=UTC).isoformat(),
             "values": {"voltage": 51.2, "soc": 80}}
            for i in range(3)
        ],
    }  # fmt: skip
    response, seconds = call(server, alpha, "POST", "/api/v1/telemetry/readings", alpha.api_token, json=body)

    assert response.status_code == 201, response.text
    assert seconds < 2
    with django_db_blocker.unblock(), schema_context("alpha"):
        assert BatteryReading.objects.filter(asset_id=battery.pk).count() == 3
    connection.set_schema_to_public()


def test_heartbeats_are_answered_from_postgresql_while_redis_is_stopped(worlds, server, own_redis, known_device):
    alpha = worlds["alpha"]
    assert beat(server, alpha, alpha.api_token)[0].status_code == 200
    own_redis.stop()

    response, seconds = beat(server, alpha, alpha.api_token)

    assert response.status_code == 200
    assert response.json()["siteId"] == "outage-pi-1"
    assert seconds < 2


def test_heartbeats_are_answered_from_postgresql_while_redis_is_frozen(worlds, server, own_redis, known_device):
    alpha = worlds["alpha"]
    assert beat(server, alpha, alpha.api_token)[0].status_code == 200
    assert beat(server, alpha, alpha.api_token)[0].status_code == 200  # the fast path, on its connection
    own_redis.freeze()

    try:
        answers = [beat(server, alpha, alpha.api_token) for _ in range(3)]
    finally:
        own_redis.thaw()

    assert [response.status_code for response, _seconds in answers] == [200, 200, 200]
    assert max(seconds for _response, seconds in answers) < 2


def test_the_first_heartbeat_after_a_redis_restart_is_answered(worlds, server, own_redis, known_device):
    alpha = worlds["alpha"]
    assert beat(server, alpha, alpha.api_token)[0].status_code == 200
    assert beat(server, alpha, alpha.api_token)[0].status_code == 200  # the fast path, on its connection

    own_redis.stop()
    own_redis.start()
    response, seconds = beat(server, alpha, alpha.api_token)

    assert response.status_code == 200
    assert seconds < 2


def test_a_key_revoked_while_redis_is_stopped_is_refused_at_once_and_after_redis_returns(
    worlds, server, own_redis, known_device, django_db_blocker
):
    from accounts.models import ApiKey
    from accounts.services import create_api_key

    alpha = worlds["alpha"]
    with django_db_blocker.unblock(), schema_context("alpha"):
        key, token = create_api_key(name="revoked in an outage", scopes=["read", "ingest"])
    connection.set_schema_to_public()
    assert call(server, alpha, "GET", "/api/v1/me", token)[0].status_code == 200  # remembered by the server
    assert beat(server, alpha, token)[0].status_code == 200
    assert beat(server, alpha, token)[0].status_code == 200  # and by its heartbeat fast path
    own_redis.stop()

    session = alpha.session_cookie("admin")
    revoked, seconds = call(
        server,
        alpha,
        "POST",
        f"/api/v1/api-keys/{key.pk}/revoke",
        headers={"Cookie": f"sessionid={session}; csrftoken={CSRF_TOKEN}", "X-CSRFToken": CSRF_TOKEN},
    )

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False and seconds < 2
    with django_db_blocker.unblock(), schema_context("alpha"):
        assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    connection.set_schema_to_public()
    assert call(server, alpha, "GET", "/api/v1/me", token)[0].status_code == 401
    assert beat(server, alpha, token)[0].status_code == 401

    own_redis.start()  # empty: it never heard of the revocation
    time.sleep(1.5)  # the server's breaker closes again
    assert call(server, alpha, "GET", "/api/v1/me", token)[0].status_code == 401
    assert beat(server, alpha, token)[0].status_code == 401
    assert call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200


def test_revocations_made_while_redis_was_down_are_published_when_it_is_back(alpha, own_redis, settings):
    from accounts.services import create_api_key, revoke_api_key
    from core.redis_client import shared_redis
    from tenants.tasks import for_each_tenant

    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": own_redis.url}}
    settings.REDIS_BREAKER_SECONDS = 0.2
    shared_redis.cache_clear()  # the process's client, on this test's Redis
    try:
        with schema_context("alpha"):
            key, _token = create_api_key(name="revoked unheard", scopes=["ingest"])
            own_redis.stop()
            revoke_api_key(key=key, by=None)
        own_redis.start()
        time.sleep(0.3)

        for_each_tenant.delay("accounts.tasks.publish_revocations")  # Celery beat's entry, run eagerly here

        assert redis.Redis.from_url(own_redis.url).sismember(REVOKED_KEYS, key.key_hash)
    finally:
        shared_redis.cache_clear()


def test_throttling_counts_per_process_while_redis_is_stopped(worlds, own_redis):
    alpha = worlds["alpha"]
    process, port = serve(own_redis, API_KEY_RATE="3/min")
    try:
        server = LiveServer(port)
        own_redis.stop()
        answers = [call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0] for _ in range(4)]
    finally:
        process.terminate()
        process.wait(10)

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[3].json()["error"] == "throttled" and int(answers[3].headers["Retry-After"]) >= 1


def test_healthz_says_degraded_and_stays_in_service_while_redis_is_stopped(worlds, server, own_redis):
    own_redis.stop()

    response, seconds = call(server, worlds["alpha"], "GET", "/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"]["status"] == "down"
    assert response.json()["checks"]["postgres"]["status"] == "ok"
    assert seconds < 2
    own_redis.start()
    assert eventually(lambda: call(server, worlds["alpha"], "GET", "/healthz")[0].json()["status"] == "ok")


def test_live_pushes_resume_by_themselves_after_a_redis_restart(worlds, server, own_redis):
    """A page (here a client doing what static/js/portal.js does: reconnect when its socket closes)
    gets the events sent after Redis came back, with nothing done by hand."""
    alpha = worlds["alpha"]
    cookie = {"Cookie": f"sessionid={alpha.session_cookie('viewer')}"}

    def send_event(title: str) -> tuple[httpx.Response, float]:
        return call(server, alpha, "POST", "/api/v1/events", alpha.api_token, json={"title": title})

    async def page(received: list, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with websockets.connect(
                    f"ws://{alpha.host}:{server.port}/ws/notifications/",
                    host="127.0.0.1",
                    port=server.port,
                    additional_headers=cookie,
                    open_timeout=5,
                ) as socket:
                    async for message in socket:
                        received.append(json.loads(message))
            except (OSError, websockets.exceptions.WebSocketException):
                pass
            await asyncio.sleep(1)  # the page's first reconnection delay

    async def scenario():
        received, stop = [], asyncio.Event()
        listening = asyncio.ensure_future(page(received, stop))

        async def wait_for(title: str, timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                response, _seconds = await asyncio.to_thread(send_event, title)
                assert response.status_code == 202
                await asyncio.sleep(0.5)
                if any(event.get("payload", {}).get("title") == title for event in received):
                    return True
            return False

        try:
            assert await wait_for("before the outage", 10)
            own_redis.stop()
            response, seconds = await asyncio.to_thread(send_event, "during the outage")
            assert response.status_code == 202 and response.json() == {"delivered": False} and seconds < 2
            await asyncio.sleep(2)
            own_redis.start()
            assert await wait_for("after the outage", 20)
        finally:
            stop.set()
            listening.cancel()

    run_async(scenario())


def test_an_alert_raised_while_the_broker_is_down_is_answered_and_its_delivery_left_due(
    worlds, own_redis, django_db_blocker
):
    from alerts.models import Alert, Channel, Delivery
    from tests.conftest import free_port

    alpha = worlds["alpha"]
    with django_db_blocker.unblock(), schema_context("alpha"):
        channel = Channel.objects.create(
            name="Ops during an outage", kind="webhook", webhook_url=f"http://127.0.0.1:{free_port()}/hook",
            min_severity="info",
        )  # fmt: skip
    connection.set_schema_to_public()
    process, port = serve(own_redis, CELERY_TASK_ALWAYS_EAGER="0")  # a real broker: the outage's Redis
    try:
        own_redis.stop()
        body = {"type": "external", "title": "Inverter fault in an outage", "message": "E42", "severity": "critical"}
        response, seconds = call(LiveServer(port), alpha, "POST", "/api/v1/alerts/receive", alpha.api_token, json=body)

        assert response.status_code == 201, response.text
        assert seconds < 2
        with django_db_blocker.unblock(), schema_context("alpha"):
            delivery = Delivery.objects.get(channel=channel)
            assert delivery.state == Delivery.State.PENDING  # alert_housekeeping sends it when due
    finally:
        process.terminate()
        process.wait(10)
        with django_db_blocker.unblock(), schema_context("alpha"):
            Alert.objects.filter(source_label="Inverter fault in an outage").delete()
            channel.delete()
        connection.set_schema_to_public()
