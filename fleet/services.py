"""Field devices: registration, metrics, heartbeats, offline detection."""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import ApiKey
from accounts.services import create_api_key, revoke_api_key
from alerts import selectors as alerts_selectors
from alerts import services as alerts
from alerts.selectors import open_alert_severities
from alerts.vocabulary import SEVERITY_RANK, Severity
from core.realtime import notify_tenant, notify_tenant_after_commit
from core.redis_client import RedisUnavailable
from fleet import rules
from fleet.device_keys import device_binding, may_report_for
from fleet.heartbeats import flush_heartbeats, mark_offline
from fleet.models import Device, DeviceStatus, MetricSnapshot, SweepState
from fleet.payloads import RUNNING_STATES
from sites.services import site_get_or_create

logger = logging.getLogger(__name__)

SOURCE_TYPE = rules.SOURCE_TYPE
OFFLINE_TYPE = rules.OFFLINE_TYPE
AGENT_ALERT_PREFIX = "agent:"
SWEEP_INTERVAL = timedelta(seconds=30)
DEFAULT_OFFLINE_AFTER = timedelta(minutes=5)
GiB = 1024**3


def device_source(device: Device) -> alerts.Source:
    return alerts.Source(
        type=SOURCE_TYPE,
        id=device.external_id,
        label=device.name or device.external_id,
        site_id=device.site.code,
        site_label=device.site.name,
    )


def resolve_device(*, key: ApiKey, site_id: str, club_name: str = "") -> tuple[Device, bool]:
    """The device a payload speaks for. A device's own key speaks for that device only; a tenant
    ingest key registers devices it has not seen yet (they show as new)."""
    device = Device.objects.select_related("site").filter(external_id=site_id).order_by()[:1]
    device = device[0] if device else None
    if not may_report_for(key.bound_to, device.pk if device is not None else None):
        raise PermissionDenied(_("This key belongs to another device."))
    if device is not None:
        return device, False
    label = club_name.strip() or "Unassigned"  # stored data, not UI text: the same in every language
    site, _created = site_get_or_create(code=slugify(label)[:64] or "unassigned", name=label)
    device, created = Device.objects.select_related("site").get_or_create(
        external_id=site_id, defaults={"site": site, "name": site_id}
    )
    if created:
        logger.info("registered new device %s at %s", site_id, site)
        _broadcast(device, "fleet.device_registered")
    return device, created


def issue_device_key(*, device: Device, by=None) -> str:
    """A key that can report for this device only; any earlier key of the device is revoked."""

    for old in ApiKey.objects.filter(bound_to=device_binding(device.pk), revoked_at__isnull=True):
        revoke_api_key(key=old, by=by)
    _key, token = create_api_key(
        name=f"Device {device.external_id}",
        scopes=["ingest"],
        created_by=by,
        bound_to=device_binding(device.pk),
    )
    return token


def _metrics_for_rules(data: dict) -> dict[str, float | None]:
    disk = data["disk"]
    metrics: dict[str, float | None] = {
        "temperature": data.get("temperature"),
        "cpu_usage": data["cpu"]["usage"],
        "memory_percent": data["memory"]["percent"],
        "disk_percent": disk["percent"],
        "disk_free_gb": round(disk["available"] / GiB, 2),
    }

    for name, state in (data.get("services") or {}).items():
        metrics[f"service_stopped:{name}"] = 0.0 if state in RUNNING_STATES else 1.0
    for name, present in (data.get("application") or {}).items():
        metrics[f"application_missing:{name}"] = 0.0 if present else 1.0
    return metrics


def _snapshot_values(data: dict) -> dict:
    return {
        "cpu_usage": data["cpu"]["usage"],
        "cpu_cores": data["cpu"].get("cores"),
        "memory_percent": data["memory"]["percent"],
        "memory_used": data["memory"]["used"],
        "memory_total": data["memory"]["total"],
        "temperature": data.get("temperature"),
        "disk_percent": data["disk"]["percent"],
        "disk_used": data["disk"]["used"],
        "disk_available": data["disk"]["available"],
        "disk_size": data["disk"]["size"],
    }


def receive_metrics(*, key: ApiKey, data: dict, raw: dict) -> tuple[Device, bool, MetricSnapshot | None]:
    """A validated report, all or nothing: the device it registers, its snapshot and its alerts are
    committed together, so a report the database refuses leaves no device behind."""
    with transaction.atomic():
        device, registered = resolve_device(key=key, site_id=data["siteId"], club_name=data.get("clubName", ""))
        return device, registered, ingest_metrics(device=device, data=data, raw=raw)


def receive_heartbeat(*, key: ApiKey, data: dict) -> tuple[Device, bool]:
    with transaction.atomic():
        device, registered = resolve_device(key=key, site_id=data["siteId"], club_name=data.get("clubName", ""))
        record_heartbeat(device=device, agent_version=data.get("agentVersion", ""))
    return device, registered


def agent_alert_type(kind: str) -> str:
    """The alert of a condition the agent itself reported: one per kind of the agent's alerts, so
    it stays the same alert while reported and resolves once the agent stops reporting it."""
    return f"{AGENT_ALERT_PREFIX}{kind}"


def _apply_agent_alerts(device: Device, reported: list[dict], at: datetime) -> None:
    by_kind: dict[str, list[dict]] = {}
    for alert in reported:
        by_kind.setdefault(alert["type"], []).append(alert)
    source = device_source(device)
    for kind, same_kind in by_kind.items():
        # Several alerts of one kind in one report (two services stopped) are one condition, at
        # the highest level reported, saying every message.
        worst = max(same_kind, key=lambda alert: SEVERITY_RANK[alert["level"]])
        alerts.raise_alert(
            source=source,
            alert_type=agent_alert_type(kind),
            severity=worst["level"],
            message="; ".join(dict.fromkeys(alert["message"] for alert in same_kind)),
            value=worst.get("value") or None,
            labels={"origin": "agent", "kind": kind},
            at=at,
        )

    still_reported = {agent_alert_type(kind) for kind in by_kind}
    open_types = open_alert_severities(source_type=SOURCE_TYPE, source_id=device.external_id)["types"]
    for alert_type in sorted(open_types):
        if alert_type.startswith(AGENT_ALERT_PREFIX) and alert_type not in still_reported:
            alerts.resolve_condition(source=source, alert_type=alert_type)


def ingest_metrics(*, device: Device, data: dict, raw: dict) -> MetricSnapshot | None:
    """Store one report (idempotent on device + time), refresh the device, apply the rules and the
    alerts the agent reported itself."""
    at: datetime = data["timestamp"]
    with transaction.atomic():
        snapshot, created = MetricSnapshot.objects.get_or_create(
            device=device, time=at, defaults={**_snapshot_values(data), "payload": raw}
        )
        if not created:
            return None
        now = timezone.now()
        is_latest = device.last_metrics_at is None or at >= device.last_metrics_at
        if is_latest:
            device.latest = {**raw, "receivedAt": now.isoformat()}
            device.last_metrics_at = at
            device.agent_version = data.get("agentVersion", device.agent_version)
        device.last_seen = max(filter(None, [device.last_seen, now]))
        was_offline = device.status == DeviceStatus.OFFLINE
        device.save(update_fields=["latest", "last_metrics_at", "agent_version", "last_seen"])
        if was_offline:
            alerts.resolve_condition(source=device_source(device), alert_type=OFFLINE_TYPE)
        if is_latest:
            alerts.evaluate_metrics(source=device_source(device), metrics=_metrics_for_rules(data), at=at)
            _apply_agent_alerts(device, data.get("alerts") or [], at)
        refresh_status(device)
    return snapshot


def record_heartbeat(*, device: Device, agent_version: str = "") -> Device:
    now = timezone.now()
    fields = {"last_seen": now}
    if agent_version:
        fields["agent_version"] = agent_version
    Device.objects.filter(pk=device.pk).update(**fields)
    if device.status == DeviceStatus.OFFLINE:
        with transaction.atomic():
            alerts.resolve_condition(source=device_source(device), alert_type=OFFLINE_TYPE)
            refresh_status(device)
    else:
        # The fast path handed this heartbeat over while the device is online: its view of offline
        # devices is stale (e.g. Redis kept state the database lost). Correct it.
        _fast_path_offline(device, offline=False)
    return device


def _fast_path_offline(device: Device, *, offline: bool) -> None:
    schema = connection.schema_name
    transaction.on_commit(lambda: mark_offline(schema, [device.external_id], offline))


def refresh_status(device: Device) -> str:
    severities = open_alert_severities(source_type=SOURCE_TYPE, source_id=device.external_id)
    if OFFLINE_TYPE in severities.get("types", ()):
        status = DeviceStatus.OFFLINE
    elif Severity.CRITICAL in severities["severities"]:
        status = DeviceStatus.CRITICAL
    elif Severity.WARNING in severities["severities"]:
        status = DeviceStatus.WARNING
    else:
        status = DeviceStatus.OK
    if status != device.status:
        if device.status == DeviceStatus.OFFLINE:
            _fast_path_offline(device, offline=False)
        Device.objects.filter(pk=device.pk).update(status=status)
        device.status = status
    _broadcast(device, "fleet.device")
    return status


def offline_rule():
    return alerts_selectors.enabled_rule(source_type=SOURCE_TYPE, alert_type=OFFLINE_TYPE)


def detect_offline(now: datetime | None = None) -> int:
    """Declare offline the devices silent for longer than the rule allows. After a gap in the sweeps
    (the platform was down, so heartbeats could not arrive) devices get that much grace again."""
    now = now or timezone.now()

    try:
        flush_heartbeats(connection.schema_name)  # heartbeats taken by the fast path, not yet in the table
    except RedisUnavailable:
        # Recent heartbeats may be waiting in Redis: declaring their devices offline would be a lie.
        # The sweep is skipped (not recorded), so when Redis is back the gap gives devices grace.
        logger.warning("offline detection skipped in %s: Redis unreachable", connection.schema_name)
        return 0
    rule = offline_rule()
    threshold = timedelta(seconds=rule.threshold) if rule else DEFAULT_OFFLINE_AFTER
    with transaction.atomic():
        state = SweepState.objects.select_for_update().first()
        if state is None or now - state.last_run > 3 * SWEEP_INTERVAL:
            grace_until = now + threshold
            if state is None:
                state = SweepState(last_run=now, grace_until=grace_until)
            else:
                logger.warning("offline detection resumes after %s: grace until %s", now - state.last_run, grace_until)
                state.grace_until = grace_until
        state.last_run = now
        state.save()
    if state.grace_until and now < state.grace_until:
        return 0
    stale = list(
        Device.objects.select_related("site").filter(last_seen__lt=now - threshold).exclude(status=DeviceStatus.OFFLINE)
    )
    if not stale:
        return 0
    # One transaction and one status update for the whole batch: a power cut takes sites down together.
    with transaction.atomic(), alerts.batch():
        for device in stale:
            silent_for = int((now - device.last_seen).total_seconds())
            alerts.raise_alert(
                source=device_source(device),
                alert_type=OFFLINE_TYPE,
                severity=Severity.CRITICAL,
                message=_("No heartbeat for %(minutes)s min") % {"minutes": silent_for // 60},
                value=silent_for,
                rule=rule,
                at=now,
            )
        Device.objects.filter(pk__in=[device.pk for device in stale]).update(status=DeviceStatus.OFFLINE)
        schema = connection.schema_name
        site_ids = [device.external_id for device in stale]

        def announce():
            mark_offline(schema, site_ids, True)
            notify_tenant(schema, "fleet.devices_offline", {"siteIds": site_ids})

        transaction.on_commit(announce)
    return len(stale)


def _broadcast(device: Device, event_type: str) -> None:
    payload = {
        "siteId": device.external_id,
        "clubName": device.site.name,
        "status": device.status,
        "lastSeen": device.last_seen,
    }
    notify_tenant_after_commit(connection.schema_name, event_type, payload)
