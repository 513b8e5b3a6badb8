"""Fleet reads, in the shapes of the customer's existing API (sites, site, history, stats, alerts)."""

import math
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from alerts import selectors as alerts_selectors
from fleet.models import Device, DeviceStatus, MetricSnapshot
from fleet.rules import SOURCE_TYPE


def _fmt(value, digits: int = 1) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def site_summary(device: Device, alert_count: int = 0) -> dict:
    latest = device.latest or {}
    return {
        "siteId": device.external_id,
        "clubName": device.site.name,
        "name": device.name,
        "status": device.status,
        "statusLabel": str(device.get_status_display()),
        "isNew": device.is_new,
        "lastSeen": device.last_seen.isoformat() if device.last_seen else None,
        "lastMetrics": device.last_metrics_at.isoformat() if device.last_metrics_at else None,
        "agentVersion": device.agent_version,
        "metrics": {
            "cpu": latest.get("cpu", {}).get("usage"),
            "memory": latest.get("memory", {}).get("percent"),
            "temperature": latest.get("temperature"),
            "disk": latest.get("disk", {}).get("percent"),
        },
        "alerts": alert_count,
    }


def devices(*, status: str = "", site: str = "", search: str = ""):
    queryset = Device.objects.select_related("site")
    if status:
        queryset = queryset.filter(status=status)
    if site:
        queryset = queryset.filter(site__code=site)
    if search:
        queryset = queryset.filter(
            Q(external_id__icontains=search) | Q(site__name__icontains=search) | Q(name__icontains=search)
        )
    return queryset.order_by("site__name", "external_id")


def sites_list(**filters) -> list[dict]:
    counts = alerts_selectors.open_alert_counts(source_type=SOURCE_TYPE)
    return [site_summary(device, counts.get(device.external_id, 0)) for device in devices(**filters)]


def site_detail(device: Device) -> dict:
    open_alerts = alerts_selectors.source_alerts(source_type=SOURCE_TYPE, source_id=device.external_id)
    summary = site_summary(device, open_alerts.count())
    summary.update(
        {
            "latest": device.latest,
            "services": (device.latest or {}).get("services", {}),
            "application": (device.latest or {}).get("application", {}),
            "openAlerts": [alert_summary(alert) for alert in open_alerts],
        }
    )
    return summary


def alert_summary(alert) -> dict:
    return {
        "id": alert.pk,
        "siteId": alert.source_id,
        "clubName": alert.site_label,
        "level": alert.severity,
        "levelLabel": str(alert.get_severity_display()),
        "type": alert.type,
        "message": alert.message,
        "value": alert.value,
        "status": alert.status,
        "firstSeen": alert.first_seen.isoformat(),
        "lastSeen": alert.last_seen.isoformat(),
        "count": alert.occurrences,
    }


def fleet_alerts(*, include_resolved: bool = False, limit: int = 500) -> list[dict]:
    alerts = alerts_selectors.source_alerts(source_type=SOURCE_TYPE, include_resolved=include_resolved)
    return [alert_summary(alert) for alert in alerts[:limit]]


def history(device: Device, *, start: datetime | None = None, end: datetime | None = None, points: int = 200) -> dict:
    """Metric history between start and end, averaged into at most `points` buckets."""
    end = end or timezone.now()
    start = start or end - timedelta(days=1)
    bucket = max(1, math.ceil((end - start).total_seconds() / max(points, 1)))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT to_timestamp(floor(extract(epoch FROM time) / %(bucket)s) * %(bucket)s) AS t,
                   avg(cpu_usage), avg(memory_percent), avg(temperature), avg(disk_percent), count(*)
            FROM fleet_metricsnapshot WHERE device_id = %(device)s AND time >= %(start)s AND time < %(end)s
            GROUP BY 1 ORDER BY 1
            """,
            {"bucket": bucket, "device": device.pk, "start": start, "end": end},
        )
        rows = cursor.fetchall()
    return {
        "siteId": device.external_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "intervalSeconds": bucket,
        "points": [
            {
                "timestamp": t.isoformat(),
                "cpu": _round(cpu),
                "memory": _round(mem),
                "temperature": _round(temp),
                "disk": _round(disk),
                "samples": n,
            }
            for t, cpu, mem, temp, disk, n in rows
        ],
    }


def _round(value):
    return None if value is None else round(value, 2)


def stats() -> dict:
    """The customer's `/api/stats` figures. The statuses partition the fleet, as in the customer's
    example (25 = 23 active + 1 warning + 1 critical + 0 offline): active is every device neither
    warning, critical nor offline. The averages are over each online device's latest report, so a
    device weighs the same however often it reports."""
    by_status = dict(Device.objects.values_list("status").annotate(n=Count("id")))
    total = sum(by_status.values())
    warning, critical, offline = (
        by_status.get(status, 0) for status in (DeviceStatus.WARNING, DeviceStatus.CRITICAL, DeviceStatus.OFFLINE)
    )
    open_alerts = alerts_selectors.open_counts(source_type=SOURCE_TYPE)
    averages = (
        MetricSnapshot.objects.exclude(device__status=DeviceStatus.OFFLINE)
        .filter(time=F("device__last_metrics_at"))
        .aggregate(
            temperature=Avg("temperature"),
            cpu=Avg("cpu_usage"),
            memory=Avg("memory_percent"),
            disk=Avg("disk_percent"),
        )
    )
    return {
        "totalSites": total,
        "activeSites": total - warning - critical - offline,
        "warningsSites": warning,
        "criticalSites": critical,
        "offlineSites": offline,
        "newSites": Device.objects.filter(is_new=True).count(),
        "totalAlerts": open_alerts["total"],
        "criticalAlerts": open_alerts["critical"],
        "averageMetrics": {key: _fmt(value) for key, value in averages.items()},
    }
