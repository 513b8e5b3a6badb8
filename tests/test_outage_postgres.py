"""PostgreSQL down, frozen or restarted: every API path answers a JSON 503 with Retry-After within
two seconds (never a hang, never an HTML 500), routine heartbeats keep being answered, and a
restart costs nobody an error.

A real uvicorn server reaches the test database through a TCP proxy of the test's own
(tests/outages.py), which the test cuts, freezes or makes drop its connections; the machine's
PostgreSQL is never touched."""

import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests import conftest
from tests.conftest import LiveServer, start_uvicorn
from tests.outages import TcpProxy
from tests.test_outage_redis import beat, call, eventually

pytestmark = pytest.mark.timeout(120)
UNAVAILABLE = {
    "error": "database_unavailable",
    "detail": "The service is briefly unavailable (its database cannot be reached). Try again in 5 seconds.",
    "fields": {},
}


@pytest.fixture
def proxy():
    database = settings.DATABASES["default"]
    proxy = TcpProxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)).start()
    yield proxy
    proxy.stop()


def serve_through(proxy, **env: str):
    """A server reaching the test database through `proxy`, with settings of its own (`env`)."""
    parts = urlsplit(conftest.test_database_url())
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    process, port = start_uvicorn(DATABASE_URL=urlunsplit(parts._replace(netloc=netloc)), **env)
    yield LiveServer(port)
    process.terminate()
    process.wait(10)


@pytest.fixture
def server(worlds, proxy):
    yield from serve_through(proxy)


@pytest.fixture
def known_device(committed_device):
    """A device registered and online, committed so the server process sees it."""
    return committed_device("pg-outage-pi", "PGOUTAGE")


def api_calls(world):
    """One call of each kind: who am I, a list, an ingest batch, an unknown device's heartbeat."""
    reading = {"asset": "SN-OUTAGE", "time": "2026-11-20T08:00:00+00:00", "values": {"voltage": 51.2}}
    return [
        ("GET", "/api/v1/me", {}),
        ("GET", "/api/v1/alerts/", {}),
        ("POST", "/api/v1/telemetry/readings", {"json": {"kind": "battery", "readings": [reading]}}),
        ("POST", "/api/v1/fleet/heartbeat", {"json": {"siteId": "never-seen-pi"}}),
    ]


def assert_unavailable(response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert response.headers["Retry-After"] == "5"
    assert seconds < 2


def test_every_api_path_answers_503_with_retry_after_while_postgresql_is_down(worlds, server, proxy):
    alpha = worlds["alpha"]
    assert call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200
    proxy.cut()

    for method, path, body in api_calls(alpha):
        assert_unavailable(*call(server, alpha, method, path, alpha.api_token, **body))

    proxy.restore()
    assert eventually(lambda: call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200)


def test_every_api_path_answers_503_with_retry_after_while_postgresql_is_frozen(worlds, server, proxy):
    alpha = worlds["alpha"]
    assert call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200
    proxy.freeze()

    for method, path, body in api_calls(alpha):
        assert_unavailable(*call(server, alpha, method, path, alpha.api_token, **body))

    proxy.restore()
    assert eventually(lambda: call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200)


def test_a_portal_page_says_the_service_is_unavailable_while_postgresql_is_down(worlds, server, proxy):
    alpha = worlds["alpha"]
    cookie = {"Cookie": f"sessionid={alpha.session_cookie('admin')}"}
    assert call(server, alpha, "GET", "/", headers=cookie)[0].status_code == 200
    proxy.cut()

    response, seconds = call(server, alpha, "GET", "/", headers=cookie)

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "5"
    assert "Temporarily unavailable" in response.text and UNAVAILABLE["detail"] in response.text
    assert seconds < 2


def test_no_request_fails_after_postgresql_restarts(worlds, server, proxy):
    alpha = worlds["alpha"]
    assert call(server, alpha, "GET", "/api/v1/alerts/", alpha.api_token)[0].status_code == 200

    proxy.drop_connections()  # what a restart does to every pooled connection
    answers = [call(server, alpha, "GET", "/api/v1/alerts/", alpha.api_token)[0] for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_routine_heartbeats_are_still_answered_while_postgresql_is_down(worlds, server, proxy, known_device):
    alpha = worlds["alpha"]
    assert beat(server, alpha, alpha.api_token, "pg-outage-pi")[0].status_code == 200
    proxy.cut()

    response, seconds = beat(server, alpha, alpha.api_token, "pg-outage-pi")

    assert response.status_code == 200
    assert response.json()["siteId"] == "pg-outage-pi" and seconds < 2


@pytest.fixture
def forgetful_server(worlds, proxy):
    """A server that remembers tenants, keys and devices for one second only."""
    yield from serve_through(proxy, TENANT_CACHE_SECONDS="1", API_KEY_CACHE_SECONDS="1", FLEET_DEVICE_CACHE_SECONDS="1")


def test_routine_heartbeats_are_answered_for_longer_than_the_cache_times_while_postgresql_is_down(
    worlds, forgetful_server, proxy, known_device
):
    alpha = worlds["alpha"]
    assert beat(forgetful_server, alpha, alpha.api_token, "pg-outage-pi")[0].status_code == 200
    proxy.cut()
    time.sleep(1.5)  # what the server remembers has expired: it cannot read it again

    answers = [beat(forgetful_server, alpha, alpha.api_token, "pg-outage-pi") for _ in range(3)]

    assert [response.status_code for response, _seconds in answers] == [200, 200, 200]
    assert all(seconds < 2 for _response, seconds in answers)


def test_healthz_says_down_while_postgresql_is_down(worlds, server, proxy):
    proxy.cut()

    response, seconds = call(server, worlds["alpha"], "GET", "/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"]["postgres"]["status"] == "down"
    assert response.json()["checks"]["redis"]["status"] == "ok"
    assert seconds < 2
    proxy.restore()
    assert eventually(lambda: call(server, worlds["alpha"], "GET", "/healthz")[0].status_code == 200)


def test_recovery_takes_seconds_once_postgresql_is_back(worlds, server, proxy):
    alpha = worlds["alpha"]
    proxy.cut()
    for _ in range(3):
        call(server, alpha, "GET", "/api/v1/me", alpha.api_token)
    proxy.restore()
    restored = time.monotonic()

    assert eventually(lambda: call(server, alpha, "GET", "/api/v1/me", alpha.api_token)[0].status_code == 200, 10)
    assert time.monotonic() - restored < 10
