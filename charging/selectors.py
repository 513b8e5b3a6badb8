"""Reads shared by the charging pages, API and analyses: the sources and their freshness, the sites
and charge points that have charging data, the bounds the period filters are relative to."""

from datetime import datetime

from django.db.models import Max, Min
from django.utils import timezone

from charging.filters import DataBounds
from charging.models import ChargingGeneration, ChargingSession, ChargingSource
from sites.selectors import sites


def charging_sources():
    return ChargingSource.objects.order_by("name")


def site_ids_by_code() -> dict[str, int]:
    """Every site of the tenant that has charge points, by code (the filters name sites by code)."""
    return dict(sites().filter(charge_points__isnull=False).distinct().values_list("code", "id"))


def data_bounds() -> DataBounds:
    bounds = ChargingSession.objects.aggregate(first=Min("local_date"), last=Max("local_date"))
    source = charging_sources().first()
    zone = source.time_zone if source else None
    today = timezone.localtime(timezone=_zone(zone)).date() if zone else timezone.localdate()
    return DataBounds(first=bounds["first"], last=bounds["last"], today=today)


def generation() -> int:
    """The tenant's charging data generation: changes whenever an import changed something."""
    row = ChargingGeneration.objects.filter(pk=1).values_list("value", flat=True).first()
    return row or 0


def data_as_of() -> datetime | None:
    return charging_sources().aggregate(last=Max("last_success_at"))["last"]


def _zone(name: str):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
