"""`/healthz` reports PostgreSQL, Redis and (when configured) Kafka and the outbox, on any host."""

import pytest
from django.test import Client as HttpClient

from tests.conftest import free_port
from tests.kafka import Broker


@pytest.fixture(scope="module")
def kafka_broker():
    """A real Kafka-protocol broker (Tansu, in memory) on a free port."""
    broker = Broker().start()
    yield broker.bootstrap
    broker.stop()


def test_healthz_reports_each_service(db):
    response = HttpClient(HTTP_HOST="anything.example").get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["postgres"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["kafka"] == {"ok": True, "status": "ok", "configured": False}


def test_healthz_checks_kafka_when_configured(db, settings, kafka_broker):
    settings.KAFKA_BOOTSTRAP_SERVERS = kafka_broker

    body = HttpClient().get("/healthz").json()

    assert body["checks"]["kafka"]["ok"] is True


def test_healthz_is_degraded_but_in_service_when_kafka_is_down(db, settings):
    settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{free_port()}"

    response = HttpClient().get("/healthz")

    assert response.status_code == 200  # requests are still served: a load balancer keeps the instance
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["kafka"]["ok"] is False
    assert response.json()["checks"]["kafka"]["status"] == "down"


def test_healthz_reports_what_waits_in_the_kafka_outbox(db, settings):
    from outbox.services import enqueue

    settings.OUTBOX_ENABLED = True
    enqueue("voltwatch.battery.readings", [("alpha:1", {"v": 1}), ("alpha:1", {"v": 2})])

    outbox = HttpClient().get("/healthz").json()["checks"]["outbox"]

    assert outbox["ok"] is True and outbox["waiting"] == 2 and outbox["oldest_age_s"] is not None
