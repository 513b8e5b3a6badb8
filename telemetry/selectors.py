"""Reads on assets and readings."""

from datetime import datetime

from django.db import connection

from alerts.services import Source
from telemetry.metrics import COLUMNS, READING_TABLES
from telemetry.models import Battery, Meter
from telemetry.rules import SILENT_TYPE

ASSET_MODELS = {"battery": Battery, "meter": Meter}
REF_FIELDS = {"battery": "serial", "meter": "device_id"}  # how devices and people name an asset


def asset_model(kind: str) -> type[Battery] | type[Meter]:
    return ASSET_MODELS[kind]


def asset_ref(kind: str, asset: Battery | Meter) -> str:
    """The identity devices and people use for an asset: a battery's serial, a meter's device id."""
    return getattr(asset, REF_FIELDS[kind])


def asset_source(kind: str, asset: Battery | Meter) -> Source:
    return Source(
        type=kind,
        id=asset_ref(kind, asset),
        label=asset.name,
        site_id=asset.site.code,
        site_label=asset.site.name,
    )


def last_reading_times(kind: str) -> dict[int, datetime]:
    """When each asset of `kind` last reported (assets that never did are absent): one index probe
    per asset on the (asset, time) key."""
    table = READING_TABLES[kind]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, last.time FROM telemetry_{kind} a "
            f"CROSS JOIN LATERAL (SELECT time FROM {table} r WHERE r.asset_id = a.id ORDER BY time DESC LIMIT 1) last"
        )
        return dict(cursor.fetchall())


ASSET_STATES = ("alerting", "silent", "ok", "new")


def filter_by_state(queryset, state: str):
    """alerting: an open alert other than silence; silent: a `silent` alert; new: never reported;
    ok: reported and no open alert."""
    from alerts.models import Alert, Status

    kind = "battery" if queryset.model is Battery else "meter"
    ref_field = REF_FIELDS[kind]
    open_alerts = Alert.objects.filter(source_type=kind, status__in=[Status.FIRING, Status.PENDING])
    silent_refs = open_alerts.filter(type=SILENT_TYPE).values("source_id")
    alerting_refs = open_alerts.exclude(type=SILENT_TYPE).values("source_id")
    if state == "alerting":
        return queryset.filter(**{f"{ref_field}__in": alerting_refs})
    if state == "silent":
        return queryset.filter(**{f"{ref_field}__in": silent_refs})
    reported = list(last_reading_times(kind))
    if state == "new":
        return queryset.exclude(pk__in=reported)
    return queryset.filter(pk__in=reported).exclude(**{f"{ref_field}__in": open_alerts.values("source_id")})


def recent_readings(kind: str, asset_id: int, count: int = 10) -> list[dict]:
    """The asset's last `count` readings, newest first (the seed's "10 dernières mesures")."""
    columns = COLUMNS[kind]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT time, {', '.join(columns)} FROM {READING_TABLES[kind]} "
            "WHERE asset_id = %s ORDER BY time DESC LIMIT %s",
            [asset_id, count],
        )
        return [{"time": row[0], **dict(zip(columns, row[1:], strict=True))} for row in cursor.fetchall()]
