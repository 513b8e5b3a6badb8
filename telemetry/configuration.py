"""Writes to the asset hierarchy — asset types, batteries, meters — from the portal and the API
alike, each recorded in the tenant's audit log. The forms and serializers validate and fill an
instance; these store it (with what goes with it: an asset's own thresholds) and say who did."""

from accounts.services import audited_delete, record_saved
from telemetry import services
from telemetry.models import AssetType


def _saved(entity: str, instance, by, ip_address: str | None, then=None):
    """Save `instance`, do `then(instance)` in the same breath, and audit the write against the row
    as it was stored before (none for a new one)."""
    before = type(instance).objects.filter(pk=instance.pk).first() if instance.pk else None
    instance.save()
    if then is not None:
        then(instance)
    record_saved(entity=entity, instance=instance, before=before, by=by, ip_address=ip_address)
    return instance


def asset_type_save(*, asset_type: AssetType, by, ip_address: str | None = None) -> AssetType:
    return _saved("asset_type", asset_type, by, ip_address)


def asset_type_delete(*, asset_type: AssetType, by, ip_address: str | None = None) -> None:
    audited_delete(entity="asset_type", instance=asset_type, by=by, ip_address=ip_address)


def asset_save(*, kind: str, asset, by, ip_address: str | None = None, thresholds: dict | None = None):
    """A battery or a meter, with its own alert thresholds: `thresholds` for a battery (by alert
    type, None clears one), a meter's from its power alert threshold."""

    def own_thresholds(saved) -> None:
        if kind == "meter":
            services.sync_meter_threshold(saved)
        elif thresholds:
            services.set_asset_thresholds("battery", saved, thresholds)

    return _saved(kind, asset, by, ip_address, then=own_thresholds)


def asset_delete(*, kind: str, asset, by, ip_address: str | None = None) -> None:
    """The asset with its readings, rollups, own rules and the keys bound to it."""
    audited_delete(
        entity=kind,
        instance=asset,
        by=by,
        ip_address=ip_address,
        delete=lambda: services.delete_asset(kind, asset, by=by if getattr(by, "pk", None) else None),
    )
