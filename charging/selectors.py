"""Reads shared by the charging pages, API and analyses: the sources and their freshness, the sites
and charge points that have charging data, the bounds the period filters are relative to."""

from datetime import datetime

from django.db.models import Max, Min
from django.utils import timezone

from charging.filters import DataBounds
from charging.models import ChargingGeneration, ChargingSession, ChargingSource, ImportRun
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


def import_runs(source_id: int | None = None):
    runs = ImportRun.objects.select_related("source", "requested_by").order_by("-created_at")
    return runs.filter(source_id=source_id) if source_id else runs


def run_payload(run: ImportRun) -> dict:
    """What the portal's progress bar and the API's job status show of a run."""
    return {
        "id": run.pk,
        "source": run.source_id,
        "trigger": run.trigger,
        "full": run.full,
        "status": run.status,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "rows_read": run.rows_read,
        "rows_expected": run.rows_expected,
        "rows_created": run.rows_created,
        "rows_updated": run.rows_updated,
        "rows_rejected": run.rows_rejected,
        "error": run.error,
    }


def freshness() -> dict:
    """How fresh the charging data is, as every charging page and answer says it: the last
    successful import, and each source's state (unreachable since when, and why)."""
    sources = list(charging_sources().values("id", "name", "kind", "enabled", "last_success_at",
                                             "unreachable_since", "last_error"))  # fmt: skip
    successes = [s["last_success_at"] for s in sources if s["last_success_at"]]
    return {"data_as_of": max(successes) if successes else None, "sources": sources}
