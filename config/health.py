"""Liveness and readiness of the services Voltwatch depends on.

`status` is "ok" when every service answers; "degraded" when PostgreSQL answers but another
service does not (Redis, Kafka, the outbox relay): the instance still serves every request, more
slowly or with live pushes paused, and must stay in a load balancer's rotation, so /healthz
answers 200; "down" when PostgreSQL does not answer: nothing can be served, 503.
Each check says `"status": "ok"` or `"down"` too.
"""

import time
from collections.abc import Callable

import redis
from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from outbox.services import backlog


def _timed(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # a health check reports every failure, whatever its kind
        return {"ok": False, "status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=settings.REDIS_TIMEOUT_S, socket_timeout=settings.REDIS_TIMEOUT_S
    )
    try:
        client.ping()
    finally:
        client.close()


def _kafka() -> None:
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "socket.timeout.ms": 3000})
    admin.list_topics(timeout=3)


def _outbox() -> dict:
    """What waits for the Kafka relay: a growing backlog means the relay or Kafka is down."""
    try:
        waiting, age = backlog()
    except Exception as exc:  # reported, like every other check
        return {"ok": False, "status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "status": "ok", "waiting": waiting, "oldest_age_s": round(age, 1) if age is not None else None}


def service_health() -> dict:
    checks = {"postgres": _timed(_postgres), "redis": _timed(_redis)}
    if settings.KAFKA_BOOTSTRAP_SERVERS:
        checks["kafka"] = _timed(_kafka)
    else:
        checks["kafka"] = {"ok": True, "status": "ok", "configured": False}
    if settings.OUTBOX_ENABLED and checks["postgres"]["ok"]:
        checks["outbox"] = _outbox()
    status = "ok" if all(c["ok"] for c in checks.values()) else "degraded"
    return {"status": status if checks["postgres"]["ok"] else "down", "checks": checks}


HTTP_STATUS = {"ok": 200, "degraded": 200, "down": 503}


class HealthzMiddleware:
    """`/healthz` answers on every host, before tenant resolution, for load balancers and probes:
    200 while requests can be served (ok or degraded), 503 when they cannot."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            connection.set_schema_to_public()
            report = service_health()
            return JsonResponse(report, status=HTTP_STATUS[report["status"]])
        return self.get_response(request)
