"""Field devices report metrics and heartbeats; the platform keeps them, alerts on the customer's
thresholds, and detects devices that go silent."""

import copy
import time
from datetime import timedelta

import pytest
from django.db import connection
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
        "deviceStatus": "warning",  # the agent's own alert: low disk space
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


def test_a_report_the_database_refuses_leaves_no_device_behind(alpha):
    client = alpha.api()
    client.raise_request_exception = False
    # Valid for the serializer, refused by PostgreSQL's jsonb (a NUL character in free-form data;
    # the JSON front door of branch i10-frontdoor refuses it with a 400 before the view).
    body = metrics(network={"eth0": {"ssid": "club\u0000wifi"}})

    response = client.post("/api/v1/fleet/metrics", body, content_type="application/json")

    assert response.status_code >= 400
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
    assert set(alerts) == {"temperature", "service:nginx", "disk", "agent:disk"}
    assert alerts["temperature"].severity == "critical"
    assert alerts["temperature"].message == "Température élevée: 78.2°C"
    assert alerts["service:nginx"].message == "Service arrêté: nginx"
    assert alerts["disk"].severity == "warning"


def test_a_condition_that_clears_resolves_its_alert(alpha):
    post(alpha, "metrics", metrics(temperature="78.2"))
    later = metrics(temperature="50", alerts=[])
    later["timestamp"] += 300

    post(alpha, "metrics", later)

    with schema_context("alpha"):
        alert = Alert.objects.get(type="temperature")
        assert alert.status == "resolved"
        assert Device.objects.get().status == "ok"


def test_the_agents_own_alerts_are_alerts_of_its_device(alpha):
    response = post(alpha, "metrics", metrics())

    assert response.json()["deviceStatus"] == "warning"
    with schema_context("alpha"):
        alert = Alert.objects.get(source_id="cesson-b827eb123456")
        assert (alert.type, alert.severity, alert.status, alert.message) == (
            "agent:disk",
            "warning",
            "firing",
            "Espace disque faible: 85% utilisé",
        )
        assert alert.site_label == "CESSON"


def test_an_agent_alert_reported_again_stays_one_alert(alpha):
    first = metrics(alerts=[{"level": "warning", "type": "disk", "message": "Espace disque faible: 85% utilisé"}])
    second = metrics(alerts=[{"level": "critical", "type": "disk", "message": "Espace disque faible: 97% utilisé"}])
    second["timestamp"] += 300

    post(alpha, "metrics", first)
    response = post(alpha, "metrics", second)

    assert response.json()["deviceStatus"] == "critical"
    with schema_context("alpha"):
        alert = Alert.objects.get()
        assert (alert.type, alert.severity, alert.occurrences, alert.message) == (
            "agent:disk",
            "critical",
            2,
            "Espace disque faible: 97% utilisé",
        )


def test_agent_alerts_of_one_kind_in_one_report_are_one_alert_at_the_worst_level(alpha):
    body = metrics(
        alerts=[
            {"level": "warning", "type": "service", "message": "Service arrêté: hostapd"},
            {"level": "critical", "type": "service", "message": "Service arrêté: nginx", "value": "nginx"},
        ]
    )

    post(alpha, "metrics", body)

    with schema_context("alpha"):
        alert = Alert.objects.get()
        assert (alert.type, alert.severity, alert.message, alert.value) == (
            "agent:service",
            "critical",
            "Service arrêté: hostapd; Service arrêté: nginx",
            "nginx",
        )


def test_an_agent_alert_no_longer_reported_is_resolved(alpha):
    post(alpha, "metrics", metrics())
    later = metrics(alerts=[])
    later["timestamp"] += 300

    response = post(alpha, "metrics", later)

    assert response.json()["deviceStatus"] == "ok"
    with schema_context("alpha"):
        assert Alert.objects.get(type="agent:disk").status == "resolved"


def test_a_late_report_does_not_reopen_what_the_agent_stopped_reporting(alpha):
    earlier = metrics()
    now = metrics(alerts=[])
    earlier["timestamp"] -= 300

    post(alpha, "metrics", now)
    post(alpha, "metrics", earlier)  # kept while the server was unreachable, sent afterwards

    with schema_context("alpha"):
        assert not Alert.objects.exists()
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
    post(alpha, "metrics", metrics(temperature="78.2", alerts=[]))
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


def _report(world, site_id, club, **changes):
    body = metrics(siteId=site_id, clubName=club, alerts=[], **changes)
    assert post(world, "metrics", body).status_code == 201
    return body


def test_the_stats_partition_the_fleet_as_the_customers_example(alpha):
    from fleet.services import detect_offline

    _report(alpha, "pi-ok", "CESSON")
    post(alpha, "heartbeat", {"siteId": "pi-new", "clubName": "RENNES"})  # online, no report yet
    _report(alpha, "pi-warm", "VANNES", memory__percent="95")
    _report(alpha, "pi-hot", "BREST", temperature="80")
    _report(alpha, "pi-gone", "LORIENT")
    with schema_context("alpha"):
        now = timezone.now()
        Device.objects.filter(external_id="pi-gone").update(last_seen=now - timedelta(minutes=6))
        _prime_sweeps(now)
        assert detect_offline(now) == 1

    stats = alpha.api(alpha.read_token).get("/api/v1/fleet/stats").json()

    assert {key: stats[key] for key in ("totalSites", "activeSites", "warningsSites", "criticalSites")} == {
        "totalSites": 5,
        "activeSites": 2,
        "warningsSites": 1,
        "criticalSites": 1,
    }
    assert stats["offlineSites"] == 1


def test_the_average_metrics_count_each_online_device_once(alpha):
    _report(alpha, "pi-1", "CESSON", cpu__usage="10", temperature="40")
    for minutes in (5, 10, 15):  # reports twice as often as its neighbour, the latest last
        later = metrics(siteId="pi-2", clubName="RENNES", alerts=[], cpu__usage="90", temperature="70")
        later["timestamp"] -= minutes * 60
        post(alpha, "metrics", later)
    _report(alpha, "pi-2", "RENNES", cpu__usage="30", temperature="60")

    averages = alpha.api(alpha.read_token).get("/api/v1/fleet/stats").json()["averageMetrics"]

    assert averages == {"temperature": "50.0", "cpu": "20.0", "memory": "37.5", "disk": "40.0"}


def test_the_average_metrics_leave_offline_devices_out(alpha):
    from fleet.services import detect_offline

    _report(alpha, "pi-1", "CESSON", temperature="40")
    _report(alpha, "pi-2", "RENNES", temperature="70")
    with schema_context("alpha"):
        now = timezone.now()
        Device.objects.filter(external_id="pi-2").update(last_seen=now - timedelta(minutes=6))
        _prime_sweeps(now)
        detect_offline(now)

    averages = alpha.api(alpha.read_token).get("/api/v1/fleet/stats").json()["averageMetrics"]

    assert averages["temperature"] == "40.0"


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


def test_no_device_is_declared_offline_while_redis_may_hold_its_heartbeats(alpha):
    from core.redis_client import redis_breaker
    from fleet.services import detect_offline

    post(alpha, "heartbeat", {"siteId": "pi-1"})
    with schema_context("alpha"):
        now = timezone.now()
        Device.objects.update(last_seen=now - timedelta(minutes=6))
        _prime_sweeps(now)
        redis_breaker.trip(ConnectionError("Redis is down"))
        try:
            assert detect_offline(now) == 0
            assert Device.objects.get().status != "offline"
        finally:
            redis_breaker.reset()
        assert detect_offline(now) == 1  # Redis back, the heartbeats it held flushed: still silent


def test_offline_detection_runs_for_every_tenant_from_beat(alpha, beta):
    from config.celery import app
    from tenants.tasks import for_each_tenant

    for world in (alpha, beta):
        post(world, "heartbeat", {"siteId": f"pi-{world.slug}"})
        with schema_context(world.slug):
            now = timezone.now()
            Device.objects.update(last_seen=now - timedelta(minutes=6))
            _prime_sweeps(now)
    connection.set_schema_to_public()

    entry = app.conf.beat_schedule["offline-detection"]
    assert (entry["task"], entry["args"], entry["schedule"]) == (
        "tenants.tasks.for_each_tenant",
        ["fleet.tasks.detect_offline_devices", None],
        30.0,
    )
    for_each_tenant.apply(args=entry["args"]).get()

    for world in (alpha, beta):
        with schema_context(world.slug):
            assert list(Device.objects.values_list("external_id", "status")) == [(f"pi-{world.slug}", "offline")]
            assert Alert.objects.get(type="offline").source_id == f"pi-{world.slug}"


def test_the_demo_simulation_reports_like_an_agent(alpha):
    from fleet.tasks import DEMO_DEVICES, simulate_demo_fleet

    with schema_context("alpha"):
        from accounts.services import create_api_key

        create_api_key(name="Demo integration", scopes=["ingest"])
    assert simulate_demo_fleet.apply(args=["alpha"]).get() == len(DEMO_DEVICES)
    with schema_context("alpha"):
        assert Device.objects.count() == len(DEMO_DEVICES)
        assert MetricSnapshot.objects.count() == len(DEMO_DEVICES)
