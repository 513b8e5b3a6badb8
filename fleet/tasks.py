import random

from django.db import connection
from django.utils import timezone

from accounts.models import ApiKey
from core.redis_client import RedisUnavailable
from fleet import services
from fleet.heartbeats import flush_heartbeats as flush
from fleet.payloads import MetricsPayload
from tenants.tasks import tenant_task


@tenant_task()
def detect_offline_devices() -> int:
    return services.detect_offline()


@tenant_task()
def flush_heartbeats() -> int:
    try:
        return flush(connection.schema_name)
    except RedisUnavailable:
        return 0  # they stay in Redis until the next flush that reaches it


DEMO_DEVICES = [
    ("cesson-b827eb000001", "CESSON"),
    ("rennes-b827eb000002", "RENNES"),
    ("vannes-b827eb000003", "VANNES"),
    ("brest-b827eb000004", "BREST"),
]


@tenant_task()
def simulate_demo_fleet() -> int:
    """`make run`'s live demo: a few devices report plausible metrics (one runs hot now and then)."""

    key = ApiKey.objects.filter(name="Demo integration", revoked_at__isnull=True).first()
    if key is None:
        return 0
    now = int(timezone.now().timestamp())
    for index, (site_id, club) in enumerate(DEMO_DEVICES):
        hot = index == 0 and random.random() < 0.3
        raw = {
            "siteId": site_id,
            "clubName": club,
            "timestamp": now,
            "agentVersion": "demo",
            "cpu": {"cores": 4, "usage": f"{random.uniform(10, 60):.1f}"},
            "memory": {"total": 4096000000, "used": 1536000000, "percent": f"{random.uniform(30, 60):.1f}"},
            "temperature": f"{random.uniform(76, 80) if hot else random.uniform(45, 60):.1f}",
            "disk": {"size": "32G", "used": "12G", "available": "18G", "percent": 40},
            "services": {"nginx": "running", "hostapd": "running"},
        }
        payload = MetricsPayload(data=raw)
        payload.is_valid(raise_exception=True)
        services.receive_metrics(key=key, data=payload.validated_data, raw=raw)
        services.receive_heartbeat(key=key, data={"siteId": site_id, "agentVersion": "demo"})
    return len(DEMO_DEVICES)
