"""Assets for the telemetry tests, made in a tenant's schema the way the services make them."""

import itertools

from django.db import connection
from django_tenants.utils import schema_context

from sites.models import Site
from telemetry.models import AssetType, Battery, Meter

_serials = itertools.count(1)


def _site_and_type(kind: str) -> tuple[Site, AssetType]:
    site, _ = Site.objects.get_or_create(code="lyon", defaults={"name": "Lyon dépôt", "time_zone": "Europe/Paris"})
    asset_type, _ = AssetType.objects.get_or_create(name=f"Standard {kind}", defaults={"kind": kind})
    return site, asset_type


def make_battery(world, **fields) -> Battery:
    with schema_context(world.slug):
        site, asset_type = _site_and_type("battery")
        number = next(_serials)
        values = {"site": site, "type": asset_type, "name": f"Pack {number}", "serial": f"SN-{number:05d}"}
        values.update(fields)
        battery = Battery.objects.create(**values)
    connection.set_schema_to_public()
    return battery


def make_meter(world, **fields) -> Meter:
    with schema_context(world.slug):
        site, _asset_type = _site_and_type("meter")
        number = next(_serials)
        values = {"site": site, "name": f"Borne {number}", "device_id": f"shellypro1pm-{number:012x}"}
        values.update(fields)
        meter = Meter.objects.create(**values)
    connection.set_schema_to_public()
    return meter
