"""Reads on assets and readings."""

from alerts.services import Source
from telemetry.models import Battery, Meter

ASSET_MODELS = {"battery": Battery, "meter": Meter}


def asset_model(kind: str) -> type[Battery] | type[Meter]:
    return ASSET_MODELS[kind]


def asset_ref(kind: str, asset: Battery | Meter) -> str:
    """The identity devices and people use for an asset: a battery's serial, a meter's device id."""
    return asset.serial if kind == "battery" else asset.device_id


def asset_source(kind: str, asset: Battery | Meter) -> Source:
    return Source(
        type=kind,
        id=asset_ref(kind, asset),
        label=asset.name,
        site_id=asset.site.code,
        site_label=asset.site.name,
    )
