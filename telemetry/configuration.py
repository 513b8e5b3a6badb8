"""Writes to the asset hierarchy — sites, asset types, batteries, meters — from the portal and the API
alike, each recorded in the tenant's audit log. The forms and serializers validate and fill an
instance; these store it (with what goes with it: an asset's own thresholds) and say who did."""

from accounts.services import record_deleted, record_saved
from telemetry import services
from telemetry.models import AssetType, Site


def _stored(instance):
    """The row as stored before this write (None for a new one)."""
    return type(instance).objects.filter(pk=instance.pk).first() if instance.pk else None


def site_save(*, site: Site, by, ip_address: str | None = None) -> Site:
    before = _stored(site)
    site.save()
    record_saved(entity="site", instance=site, before=before, by=by, ip_address=ip_address)
    return site


def site_delete(*, site: Site, by, ip_address: str | None = None) -> None:
    record_deleted(entity="site", instance=site, by=by, ip_address=ip_address)
    site.delete()


def asset_type_save(*, asset_type: AssetType, by, ip_address: str | None = None) -> AssetType:
    before = _stored(asset_type)
    asset_type.save()
    record_saved(entity="asset_type", instance=asset_type, before=before, by=by, ip_address=ip_address)
    return asset_type


def asset_type_delete(*, asset_type: AssetType, by, ip_address: str | None = None) -> None:
    record_deleted(entity="asset_type", instance=asset_type, by=by, ip_address=ip_address)
    asset_type.delete()


def asset_save(*, kind: str, asset, by, ip_address: str | None = None, thresholds: dict | None = None):
    """A battery or a meter, with its own alert thresholds: `thresholds` for a battery (by alert
    type, None clears one), a meter's from its power alert threshold."""
    before = _stored(asset)
    asset.save()
    if kind == "battery":
        if thresholds:
            services.set_asset_thresholds("battery", asset, thresholds)
    else:
        services.sync_meter_threshold(asset)
    record_saved(entity=kind, instance=asset, before=before, by=by, ip_address=ip_address)
    return asset


def asset_delete(*, kind: str, asset, by, ip_address: str | None = None) -> None:
    """The asset with its readings, rollups, own rules and the keys bound to it."""
    record_deleted(entity=kind, instance=asset, by=by, ip_address=ip_address)
    services.delete_asset(kind, asset, by=by if getattr(by, "pk", None) else None)
