"""Field devices report metrics and heartbeats; the platform keeps them, alerts on the customer's
thresholds, and detects devices that go silent."""

import copy
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts.models import Alert
from fleet.models import Device, MetricSnapshot, SweepState

# The customer's payload, as its agent sends it (numbers as strings included).
SEED_METRICS = {
    "siteId": "cesson-b827eb123456",
    "clubName": "CESSON",
    "timestamp": None,
    "cpu": {"cores": 4, "usage": "45.2"},
    "memory": {"total": 4096000000, "used": 1536000000, "percent": "37.5"},
    "temperature": "52.4",
    "disk": {"size": "32G", "used": "12G", "available": "18G", "percent": 40},
    "services": {"neopro-app": "running", "neopro-admin": "running", "nginx": "running", "hostapd": "running"},
    "alerts": [{"level": "warning", "type": "disk", "message": "Espace disque faible: 85% utilisé"}],
}


def metrics(**changes) -> dict:
    body = copy.deepcopy(SEED_METRICS)
    body["timestamp"] = int(time.time())
    for path, value in changes.items():
        target = body
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            target.pop(leaf)
        else:
            target[leaf] = value
    return body


DELETE = object()


def post(world, path, body, token=None):
    return world.api(token).post(f"/api/v1/fleet/{path}", body, content_type="application/json")


def test_the_seed_payload_is_accepted_and_registers_the_device(alpha):
    response = post(alpha, "metrics", metrics())

    assert response.status_code == 201
    assert response.json() == {
        "status": "stored",
        "siteId": "cesson-b827eb123456",
        "registered": True,
        "deviceStatus": "ok",
    }
    with schema_context("alpha"):
        device = Device.objects.get(external_id="cesson-b827eb123456")
        assert device.is_new and device.site.name == "CESSON"
        snapshot = MetricSnapshot.objects.get(device=device)
        assert (snapshot.cpu_usage, snapshot.temperature, snapshot.disk_size) == (45.2, 52.4, 32 * 1024**3)


def test_re_sending_the_same_report_stores_nothing_twice(alpha):
    body = metrics()
    post(alpha, "metrics", body)

    again = post(alpha, "metrics", body)

    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    with schema_context("alpha"):
        assert MetricSnapshot.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cpu__usage": "beaucoup"}, "cpu"),
        ({"memory": DELETE}, "memory"),
        ({"siteId": DELETE}, "siteId"),
        ({"firmware": "1.2"}, "firmware"),
        ({"disk__colour": "blue"}, "disk"),
        ({"disk__used": -5}, "disk"),
        ({"temperature": "500"}, "temperature"),
        ({"memory__percent": 150}, "memory"),
        ({"timestamp": 4102444800}, "timestamp"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"services__nginx": "sleepy"}, "services"),
        ({"siteId": "../etc/passwd"}, "siteId"),
        ({"memory__used": 9_000_000_000}, "memory"),
    ],
)
def test_bad_payloads_get_400_naming_the_field_and_store_nothing(alpha, changes, field):
    response = post(alpha, "metrics", metrics(**changes))

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["fields"]
    with schema_context("alpha"):
        assert not Device.objects.exists() and not MetricSnapshot.objects.exists()


def test_a_body_that_is_not_an_object_gets_400(alpha):
    response = alpha.api().post("/api/v1/fleet/metrics", "[1, 2]", content_type="application/json")

    assert response.status_code == 400


def test_another_tenants_key_gets_401(alpha, beta):
    response = post(alpha, "metrics", metrics(), token=beta.api_token)

    assert response.status_code == 401


def test_a_read_only_key_cannot_report(alpha):
    assert post(alpha, "metrics", metrics(), token=alpha.read_token).status_code == 403


def test_the_customers_thresholds_raise_alerts(alpha):
    response = post(alpha, "metrics", metrics(temperature="78.2", services__nginx="stopped", disk__percent=95))

    assert response.json()["deviceStatus"] == "critical"
    with schema_context("alpha"):
        alerts = {a.type: a for a in Alert.objects.filter(status="firing")}
    assert set(alerts) == {"temperature", "service:nginx", "disk"}
    assert alerts["temperature"].severity == "critical"
    assert alerts["temperature"].message == "Température élevée: 78.2°C"
    assert alerts["service:nginx"].message == "Service arrêté: nginx"
    assert alerts["disk"].severity == "warning"


def test_a_condition_that_clears_resolves_its_alert(alpha):
    post(alpha, "metrics", metrics(temperature="78.2"))
    later = metrics(temperature="50")
    later["timestamp"] += 300

    post(alpha, "metrics", later)

    with schema_context("alpha"):
        alert = Alert.objects.get(type="temperature")
        assert alert.status == "resolved"
        assert Device.objects.get().status == "ok"


def test_free_disk_below_2_gb_warns(alpha):
    post(alpha, "metrics", metrics(disk__available="1.5G"))

    with schema_context("alpha"):
        assert Alert.objects.get(type="disk_space").severity == "warning"


def test_a_heartbeat_updates_last_seen(alpha):
    response = post(alpha, "heartbeat", {"siteId": "pi-1", "clubName": "RENNES"})

    assert response.status_code == 200
    assert response.json()["registered"] is True
    with schema_context("alpha"):
        assert Device.objects.get(external_id="pi-1").last_seen is not None


def _prime_sweeps(now):
    SweepState.objects.update_or_create(pk=1, defaults={"last_run": now - timedelta(seconds=30), "grace_until": None})


def test_a_silent_device_goes_offline_and_its_next_heartbeat_resolves_it(alpha):
    from fleet.services import detect_offline

    post(alpha, "heartbeat", {"siteId": "pi-1", "clubName": "RENNES"})
    with schema_context("alpha"):
        now = timezone.now()
        Device.objects.update(last_seen=now - timedelta(minutes=6))
        _prime_sweeps(now)
        assert detect_offline(now) == 1
        alert = Alert.objects.get(type="offline")
        assert (alert.status, alert.severity, alert.site_label) == ("firing", "critical", "RENNES")
        assert Device.objects.get().status == "offline"
        assert detect_offline(now + timedelta(seconds=30)) == 0  # still one alert, not two

    post(alpha, "heartbeat", {"siteId": "pi-1"})

    with schema_context("alpha"):
        assert Alert.objects.get(type="offline").status == "resolved"
        assert Device.objects.get().status == "ok"


def test_no_false_alarms_after_the_platform_was_down(alpha):
    from fleet.services import detect_offline

    post(alpha, "heartbeat", {"siteId": "pi-1"})
    with schema_context("alpha"):
        now = timezone.now()
        Device.objects.update(last_seen=now - timedelta(minutes=20))
        SweepState.objects.update_or_create(pk=1, defaults={"last_run": now - timedelta(minutes=20)})

        # Sweeps resume every 30 s: the devices get their 5 minutes again before anything is declared.
        declared = [detect_offline(now + timedelta(seconds=30 * step)) for step in range(12)]

        assert declared[:10] == [0] * 10
        assert sum(declared) == 1  # still silent once the grace has passed


def test_the_read_api_answers_in_the_customers_shapes(alpha):
    post(alpha, "metrics", metrics(temperature="78.2"))
    post(alpha, "heartbeat", {"siteId": "pi-2", "clubName": "RENNES"})
    api = alpha.api(alpha.read_token)

    sites = api.get("/api/v1/fleet/sites").json()
    assert {s["siteId"] for s in sites} == {"cesson-b827eb123456", "pi-2"}
    cesson = next(s for s in sites if s["siteId"] == "cesson-b827eb123456")
    assert cesson["metrics"] == {"cpu": "45.2", "memory": "37.5", "temperature": "78.2", "disk": 40}
    assert cesson["alerts"] == 1 and cesson["status"] == "critical"

    detail = api.get("/api/v1/fleet/sites/cesson-b827eb123456").json()
    assert detail["services"]["nginx"] == "running"
    assert detail["openAlerts"][0]["type"] == "temperature"

    history = api.get("/api/v1/fleet/sites/cesson-b827eb123456/history", {"points": 10}).json()
    assert history["points"][0]["temperature"] == 78.2

    stats = api.get("/api/v1/fleet/stats").json()
    assert stats["totalSites"] == 2 and stats["criticalSites"] == 1 and stats["criticalAlerts"] == 1
    assert stats["averageMetrics"]["temperature"] == "78.2"
    assert set(stats) >= {
        "totalSites",
        "activeSites",
        "warningsSites",
        "criticalSites",
        "offlineSites",
        "totalAlerts",
        "criticalAlerts",
        "averageMetrics",
    }

    alerts = api.get("/api/v1/fleet/alerts").json()
    assert alerts[0]["level"] == "critical" and alerts[0]["clubName"] == "CESSON"

    assert api.get("/api/v1/fleet/sites/nope").status_code == 404
    assert api.get("/api/v1/fleet/sites/pi-2/history", {"points": "x"}).json()["fields"] == {
        "points": "A valid integer is required."
    }


def test_a_device_key_speaks_for_its_device_only(alpha):
    post(alpha, "heartbeat", {"siteId": "pi-1"})
    post(alpha, "heartbeat", {"siteId": "pi-2"})
    created = alpha.http("admin").post("/api/v1/fleet/devices/pi-1/key")
    device_key = created.json()["key"]

    assert post(alpha, "heartbeat", {"siteId": "pi-1"}, token=device_key).status_code == 200
    refused = post(alpha, "heartbeat", {"siteId": "pi-2"}, token=device_key)
    assert refused.status_code == 403
    assert "another device" in refused.json()["detail"]
    assert post(alpha, "heartbeat", {"siteId": "pi-new"}, token=device_key).status_code == 403


def test_offline_detection_runs_for_every_tenant_from_beat(alpha, beta):
    from config.celery import app
    from fleet.tasks import detect_offline_all_tenants

    assert app.conf.beat_schedule["offline-detection"]["schedule"] == 30.0
    assert detect_offline_all_tenants.apply().get() >= 2


def test_the_demo_simulation_reports_like_an_agent(alpha):
    from fleet.tasks import DEMO_DEVICES, simulate_demo_fleet

    with schema_context("alpha"):
        from accounts.services import create_api_key

        create_api_key(name="Demo integration", scopes=["ingest"])
    assert simulate_demo_fleet.apply(args=["alpha"]).get() == len(DEMO_DEVICES)
    with schema_context("alpha"):
        assert Device.objects.count() == len(DEMO_DEVICES)
        assert MetricSnapshot.objects.count() == len(DEMO_DEVICES)
