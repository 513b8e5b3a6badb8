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


def session_links() -> dict[int, str]:
    """{source id: its session-link template} for the sources that have one."""
    return {pk: template for pk, template in charging_sources().values_list("pk", "link_template") if template}


def session_link(links: dict[int, str], external_id: str, source_id: int | None = None) -> str:
    """The address of a session in the operator's console: its own source's template, else the only
    (or first) one there is."""
    template = links.get(source_id) if source_id is not None else None
    template = template or next(iter(links.values()), "")
    return template.replace("{id}", str(external_id)) if template else ""


SESSION_LIST_ORDER = ("-started_at", "-pk")


def sessions_list(filters, q: str = "", *, status: str = "", after: tuple | None = None):
    """The sessions of the filters' sites and period, newest first, optionally matching `q` (part of
    the ID, the MAC or the vehicle, any case) and `status`: "failed" (counted as failed under the
    filters: not OK, its type and moment both selected) or "ok" (everything else, failures filtered
    out included). `after` = (started_at, pk) of the last row of the previous page (keyset paging).

    A queryset: pages slice it, exports iterate it."""
    from django.db.models import Q

    queryset = ChargingSession.objects.filter(
        local_date__gte=filters.d1, local_date__lt=filters.end_exclusive
    ).select_related("charge_point")
    if filters.site_ids:
        queryset = queryset.filter(site_id__in=filters.site_ids)
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(Q(external_id__icontains=q) | Q(mac__icontains=q) | Q(vehicle__icontains=q))
    counted_failed = Q(is_ok=False, error_type__in=filters.types, moment__in=filters.moments)
    if status == "failed":
        queryset = queryset.filter(counted_failed)
    elif status == "ok":
        queryset = queryset.exclude(counted_failed)
    if after is not None:
        started_at, pk = after
        queryset = queryset.filter(Q(started_at__lt=started_at) | Q(started_at=started_at, pk__lt=pk))
    return queryset.order_by(*SESSION_LIST_ORDER)


def time_zone_name() -> str:
    """The zone the charging pages show times in: the (first) source's, the operators' local time."""
    from django.conf import settings

    zone = charging_sources().values_list("time_zone", flat=True).first()
    return zone if zone and _zone(zone) else settings.TIME_ZONE


def site_choices() -> list[dict]:
    """The sites the filters offer (those with charge points): code and name, by name."""
    return list(sites().filter(charge_points__isnull=False).distinct().order_by("name").values("code", "name"))
