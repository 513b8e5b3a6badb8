"""Reads on assets and readings."""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from alerts import selectors as alerts_selectors
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


def state_of(open_types: set[str], reported: bool) -> str:
    """alerting: an open alert other than silence; silent: only a `silent` alert; new: never
    reported (and no open alert); ok: reported and no open alert."""
    if open_types - {SILENT_TYPE}:
        return "alerting"
    if open_types:
        return "silent"
    return "ok" if reported else "new"


def asset_states(kind: str, assets, reported: Iterable[int]) -> dict[int, str]:
    """The state of each of `assets` (of `kind`), `reported` being the ids of those that ever reported."""
    ref_field = REF_FIELDS[kind]
    refs = {getattr(asset, ref_field): asset.pk for asset in assets}
    open_types = alerts_selectors.open_alert_types(source_type=kind, source_ids=refs)
    reported = set(reported)
    return {pk: state_of(open_types.get(ref, set()), pk in reported) for ref, pk in refs.items()}


def filter_by_state(queryset, state: str):
    """The assets of `queryset` in `state` (see `state_of`)."""
    kind = "battery" if queryset.model is Battery else "meter"
    ref_field = REF_FIELDS[kind]
    open_types = alerts_selectors.open_alert_types(source_type=kind)
    reported = set(last_reading_times(kind))
    if state in ("alerting", "silent"):
        refs = [ref for ref, types in open_types.items() if state_of(types, True) == state]
        return queryset.filter(**{f"{ref_field}__in": refs})
    quiet = queryset.exclude(**{f"{ref_field}__in": list(open_types)})
    return quiet.filter(pk__in=reported) if state == "ok" else quiet.exclude(pk__in=reported)


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
