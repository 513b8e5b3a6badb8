"""Routine heartbeats are answered in front of Django; what they record, refuse and hand over must be
exactly what the Django view would do."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from fleet.heartbeats import flush_heartbeats
from tests.conftest import LiveServer, build_world, start_uvicorn


@pytest.fixture
def known_device(committed_device):
    """A device registered and online, committed so the server process sees it."""
    return committed_device("fast-pi-1", "FASTVILLE")


def beat(server, world, token, body=None):
    return httpx.post(
        f"http://127.0.0.1:{server.port}/api/v1/fleet/heartbeat",
        headers={"Host": world.host, "Authorization": f"Api-Key {token}"},
        json=body if body is not None else {"siteId": "fast-pi-1"},
    )


def test_a_routine_heartbeat_is_recorded_once_flushed(worlds, asgi_server, known_device, django_db_blocker):
    alpha = worlds["alpha"]
    response = beat(asgi_server, alpha, alpha.api_token)

    assert response.status_code == 200
    assert response.json()["siteId"] == "fast-pi-1" and response.json()["registered"] is False
    with django_db_blocker.unblock(), schema_context("alpha"):
        from fleet.models import Device

        assert flush_heartbeats("alpha") >= 1
        assert Device.objects.get(pk=known_device.pk).last_seen is not None


def test_bad_payloads_and_foreign_keys_get_the_usual_answers(worlds, asgi_server, known_device):
    alpha, beta = worlds["alpha"], worlds["beta"]

    invalid = beat(asgi_server, alpha, alpha.api_token, {"siteId": "fast-pi-1", "uptime": -1})
    assert invalid.status_code == 400 and "uptime" in invalid.json()["fields"]
    assert beat(asgi_server, alpha, beta.api_token).status_code == 401
    assert beat(asgi_server, alpha, alpha.read_token).status_code == 403


def test_a_revoked_key_is_refused_at_once_even_when_cached(worlds, asgi_server, known_device, django_db_blocker):
    from accounts.models import ApiKey
    from accounts.services import create_api_key, revoke_api_key

    alpha = worlds["alpha"]
    with django_db_blocker.unblock(), schema_context("alpha"):
        key, token = create_api_key(name="soon revoked", scopes=["ingest"])
    assert beat(asgi_server, alpha, token).status_code == 200  # now cached by the server

    with django_db_blocker.unblock(), schema_context("alpha"):
        revoke_api_key(key=ApiKey.objects.get(pk=key.pk), by=None)

    assert beat(asgi_server, alpha, token).status_code == 401


def test_an_offline_devices_heartbeat_resolves_its_alert(worlds, asgi_server, known_device, django_db_blocker):
    from datetime import timedelta

    from django.utils import timezone

    from fleet.models import Device, SweepState
    from fleet.services import detect_offline

    alpha = worlds["alpha"]
    beat(asgi_server, alpha, alpha.api_token)  # the server now knows the device

    def sweep() -> int:  # server-side work, in a thread of its own as in a worker
        with schema_context("alpha"):
            now = timezone.now()
            flush_heartbeats("alpha")
            Device.objects.filter(pk=known_device.pk).update(last_seen=now - timedelta(minutes=10))
            SweepState.objects.update_or_create(
                pk=1, defaults={"last_run": now - timedelta(seconds=30), "grace_until": None}
            )
            return detect_offline(now)

    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as worker:
        assert worker.submit(sweep).result() == 1

    assert beat(asgi_server, alpha, alpha.api_token).status_code == 200

    with django_db_blocker.unblock(), schema_context("alpha"):
        from alerts.models import Alert

        assert Alert.objects.get(source_id="fast-pi-1", type="offline").status == "resolved"
        assert Device.objects.get(pk=known_device.pk).status == "ok"


@pytest.fixture
def tight_rate(worlds, django_db_blocker):
    """alpha limited to 4 requests a minute per key, and a key of its own, on a server started after."""
    from accounts.services import create_api_key
    from tenants.models import Client

    alpha = worlds["alpha"]
    with django_db_blocker.unblock():
        Client.objects.filter(pk=alpha.tenant.pk).update(api_rate="4/min")
        with schema_context(alpha.slug):
            _key, token = create_api_key(name="shared allowance", scopes=["ingest", "read"])
    connection.set_schema_to_public()
    process, port = start_uvicorn()
    yield LiveServer(port), token
    process.terminate()
    process.wait(10)
    with django_db_blocker.unblock():
        Client.objects.filter(pk=alpha.tenant.pk).update(api_rate="")


def test_heartbeats_on_the_fast_path_and_api_calls_draw_on_one_allowance(worlds, known_device, tight_rate):
    alpha = worlds["alpha"]
    server, token = tight_rate
    if time.time() % 60 > 45:  # the four requests must fall in one minute's window
        time.sleep(61 - time.time() % 60)

    def me():
        return httpx.get(f"http://127.0.0.1:{server.port}/api/v1/me", headers={"Host": alpha.host, "X-API-Key": token})

    answers = [beat(server, alpha, token), beat(server, alpha, token), me(), beat(server, alpha, token), me()]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 429]
    assert answers[0].json()["registered"] is False  # answered in front of Django
    assert beat(server, alpha, token).status_code == 429  # the fast path counts what Django counted


def django_beat(world, token, body, blocker):
    """The same heartbeat answered by Django alone (the test client does not pass the fast path),
    committed as the server's would be."""
    with blocker.unblock():
        return world.api(token).post("/api/v1/fleet/heartbeat", json.dumps(body), content_type="application/json")


def test_a_key_of_another_device_gets_the_same_refusal_on_both_paths(
    worlds, asgi_server, committed_device, django_db_blocker
):
    from fleet.services import issue_device_key

    alpha = worlds["alpha"]
    own, other = committed_device("fast-own-pi", "FASTVILLE"), committed_device("fast-other-pi", "FASTVILLE")
    with django_db_blocker.unblock(), schema_context("alpha"):
        token = issue_device_key(device=own)
    connection.set_schema_to_public()

    mine = beat(asgi_server, alpha, token, {"siteId": own.external_id})
    fast = beat(asgi_server, alpha, token, {"siteId": other.external_id})
    django = django_beat(alpha, token, {"siteId": other.external_id}, django_db_blocker)

    assert mine.status_code == 200 and mine.json()["registered"] is False
    assert fast.status_code == django.status_code == 403
    assert fast.json() == django.json()
    assert "another device" in fast.json()["detail"]


def test_a_revoked_key_gets_the_same_refusal_on_both_paths(worlds, asgi_server, known_device, django_db_blocker):
    from accounts.models import ApiKey
    from accounts.services import create_api_key, revoke_api_key

    alpha = worlds["alpha"]
    with django_db_blocker.unblock(), schema_context("alpha"):
        key, token = create_api_key(name="revoked on both paths", scopes=["ingest"])
    assert beat(asgi_server, alpha, token).status_code == 200  # remembered by the fast path
    with django_db_blocker.unblock(), schema_context("alpha"):
        revoke_api_key(key=ApiKey.objects.get(pk=key.pk), by=None)
    connection.set_schema_to_public()

    fast = beat(asgi_server, alpha, token)
    django = django_beat(alpha, token, {"siteId": "fast-pi-1"}, django_db_blocker)

    assert fast.status_code == django.status_code == 401
    assert fast.json() == django.json()


@pytest.fixture
def suspendable(worlds, django_db_blocker):
    """A tenant of its own with a device, which a test may suspend without touching alpha's answers."""
    from fleet.models import Device
    from sites.models import Site
    from tenants.models import Client

    with django_db_blocker.unblock():
        world = build_world("hbsuspend", "Heartbeat Suspended")
        world.blocker = django_db_blocker
        with schema_context(world.slug):
            site = Site.objects.create(code="suspendville", name="SUSPENDVILLE")
            Device.objects.create(external_id="suspended-pi", site=site, name="suspended-pi", status="ok")
    connection.set_schema_to_public()
    yield world
    with django_db_blocker.unblock():
        Client.objects.get(pk=world.tenant.pk).delete(force_drop=True)
    connection.set_schema_to_public()


def test_a_suspended_tenant_is_refused_by_the_fast_path_within_the_cache_time(
    asgi_server, suspendable, django_db_blocker, settings
):
    from tenants.models import Client

    body = {"siteId": "suspended-pi"}
    assert beat(asgi_server, suspendable, suspendable.api_token, body).status_code == 200  # remembered
    with django_db_blocker.unblock():
        Client.objects.filter(pk=suspendable.tenant.pk).update(status=Client.Status.SUSPENDED)  # by another process
    suspended = time.monotonic()

    while (answer := beat(asgi_server, suspendable, suspendable.api_token, body)).status_code == 200:
        assert time.monotonic() - suspended < settings.TENANT_CACHE_SECONDS + 1.5, "still answered"
        time.sleep(0.1)

    django = django_beat(suspendable, suspendable.api_token, body, django_db_blocker)
    assert answer.status_code == django.status_code == 403
    assert answer.json() == django.json() and answer.json()["error"] == "tenant_suspended"
    assert beat(asgi_server, suspendable, suspendable.api_token, body).status_code == 403  # and stays refused


def test_the_fast_path_throttles_exactly_as_django_does(worlds, known_device, tight_rate, django_db_blocker):
    """Two keys of one tenant limited to 4 requests a minute: one beats through the server (its fast
    path), the other through Django alone. Both get the same answers, in the same order."""
    from accounts.services import create_api_key

    alpha = worlds["alpha"]
    server, token = tight_rate
    with django_db_blocker.unblock(), schema_context(alpha.slug):
        _key, django_token = create_api_key(name="django allowance", scopes=["ingest"])
    connection.set_schema_to_public()
    if time.time() % 60 > 45:  # the five requests of each must fall in one minute's window
        time.sleep(61 - time.time() % 60)

    fast = [beat(server, alpha, token) for _ in range(5)]
    django = [django_beat(alpha, django_token, {"siteId": "fast-pi-1"}, django_db_blocker) for _ in range(5)]

    assert [answer.status_code for answer in fast] == [answer.status_code for answer in django]
    assert [answer.status_code for answer in fast] == [200, 200, 200, 200, 429]
    assert fast[0].json()["registered"] is False  # answered in front of Django
    refused, expected = fast[-1].json(), django[-1].json()
    assert refused["error"] == expected["error"] == "throttled"
    assert refused["limit"] == expected["limit"] == "4 requests per minute"
    assert abs(refused["retry_after"] - expected["retry_after"]) <= 1  # a second may pass between them
    assert fast[-1].headers["Retry-After"] == str(refused["retry_after"])
