"""What an import raises through the platform's alert engine: analysis 10's recurring errors (one
alert per charge point and error key) and new active faults.

Recurring errors: analysis 10 over the last 7 days of the source's data (from its newest session's
local date back 6 days, every type and moment, the sites the source has sessions of in those days).
Of each charge point and error key only the latest window counts; it is raised once: an import that
finds only sessions already alerted on (the same window, or what the moving 7 days still show of it)
raises nothing; a window that grew or a new window raises again — which updates the open alert of
that charge point and key (its message, value and occurrences) rather than opening a second one.

Faults: each active fault of the source is raised once (source "charging_fault", the fault's id); an
alert of it, open or resolved, is never raised again; it is resolved when the fault gets an end date.
"""

from datetime import timedelta

from django.db.models import Max
from django.utils.translation import gettext as _

from alerts import selectors as alert_selectors
from alerts import services as alerts
from charging.analyses.recurring_errors import detect
from charging.filters import Filters
from charging.models import ChargingSession, ChargingSource, Fault
from sites.selectors import sites

RECENT_DAYS = 7
RECURRING = "charging_recurring"
POINT_SOURCE = "charge_point"
FAULT_SOURCE = "charging_fault"
FAULT_ALERT = "charging_fault"
SEVERITY = "warning"


def recurring_alert_type(alert: dict) -> str:
    """`charging_recurring:<type>:<moment>:<EVI code>:<Downstream code>` (a missing code is empty):
    two error keys of one charge point are two alerts."""
    codes = ["" if alert[k] is None else str(alert[k]) for k in ("evi_code", "downstream_code")]
    return ":".join([RECURRING, alert["error_type"], alert["moment"], *codes])


def _recent_filters(source: ChargingSource) -> Filters | None:
    newest = ChargingSession.objects.filter(source=source).aggregate(newest=Max("local_date"))["newest"]
    if newest is None:
        return None
    first = newest - timedelta(days=RECENT_DAYS - 1)
    site_ids = (
        ChargingSession.objects.filter(source=source, local_date__gte=first, local_date__lte=newest)
        .order_by()
        .values_list("site_id", flat=True)
        .distinct()
    )
    return Filters(period="range", d1=first, d2=newest, site_ids=tuple(sorted(site_ids)))


def _raise_recurring(source: ChargingSource) -> int:
    filters = _recent_filters(source)
    if filters is None:
        return 0
    latest: dict[tuple[int, str], dict] = {}
    for alert in detect(filters):  # newest detection first: the first of each key is its latest window
        latest.setdefault((alert["charge_point_id"], recurring_alert_type(alert)), alert)
    if not latest:
        return 0
    known: dict[tuple[str, str], set[str]] = {}  # the sessions already alerted on, per charge point and key
    raised = alert_selectors.source_alerts(source_type=POINT_SOURCE, include_resolved=True).filter(
        source_id__in={str(point) for point, _type in latest}, type__startswith=f"{RECURRING}:"
    )
    for source_id, alert_type, labels in raised.values_list("source_id", "type", "labels"):
        known.setdefault((source_id, alert_type), set()).update((labels or {}).get("sessions", []))
    count = 0
    for (point, alert_type), alert in latest.items():
        if set(alert["session_ids"]) <= known.get((str(point), alert_type), set()):
            continue  # nothing new: the same window (or what the 7 days still show of it) was raised
        detection = alert["detection"].isoformat()
        label = f"{alert['site']} / {alert['charge_point']}"
        alerts.raise_alert(
            source=alerts.Source(type=POINT_SOURCE, id=str(point), label=label, site_id=str(alert["site_id"]),
                                 site_label=alert["site"]),
            alert_type=alert_type,
            severity=SEVERITY,
            message=_("%(point)s: %(count)s identical errors (%(type)s, %(moment)s, EVI %(evi)s, Downstream "
                      "%(ds)s) between %(first)s and %(last)s.")
            % {"point": label, "count": alert["occurrences"], "type": alert["error_type"], "moment": alert["moment"],
               "evi": _code(alert["evi_code"]), "ds": _code(alert["downstream_code"]),
               "first": alert["detection_local"], "last": alert["last_local"]},
            value=alert["occurrences"],
            labels={"detection": detection, "occurrences": alert["occurrences"], "last": alert["last"].isoformat(),
                    "sessions": alert["session_ids"]},
        )  # fmt: skip
        count += 1
    return count


def _code(value: int | None) -> str:
    return "—" if value is None else str(value)


def _fault_source(fault: Fault, site_names: dict[int, str]) -> alerts.Source:
    site = site_names.get(fault.site_id, "?")
    where = f"{site} / {fault.equipment}" if fault.equipment else site
    return alerts.Source(type=FAULT_SOURCE, id=str(fault.pk), label=f"{where}: {fault.label}"[:200],
                         site_id=str(fault.site_id), site_label=site)  # fmt: skip


def _faults(source: ChargingSource) -> int:
    site_names = dict(sites().values_list("pk", "name"))
    ever_raised = set(
        alert_selectors.source_alerts(source_type=FAULT_SOURCE, include_resolved=True)
        .filter(type=FAULT_ALERT)
        .values_list("source_id", flat=True)
    )
    count = 0
    for fault in Fault.objects.filter(source=source, ended_at__isnull=True).exclude(
        pk__in=[int(pk) for pk in ever_raised if pk.isdigit()]
    ):
        local = fault.started_at.astimezone(_zone(source)).strftime("%Y-%m-%d %H:%M")
        alerts.raise_alert(
            source=_fault_source(fault, site_names),
            alert_type=FAULT_ALERT,
            severity=SEVERITY,
            message=_("Fault “%(fault)s” on %(site)s / %(equipment)s since %(start)s.")
            % {"fault": fault.label, "site": site_names.get(fault.site_id, "?"), "equipment": fault.equipment or "—",
               "start": local},
            labels={"fault": fault.external_id, "equipment": fault.equipment},
        )  # fmt: skip
        count += 1
    open_ids = alert_selectors.open_alert_types(source_type=FAULT_SOURCE)
    ended = Fault.objects.filter(
        source=source, ended_at__isnull=False, pk__in=[int(pk) for pk in open_ids if pk.isdigit()]
    )
    for fault in ended:
        alerts.resolve_condition(source=_fault_source(fault, site_names), alert_type=FAULT_ALERT)
    return count


def _zone(source: ChargingSource):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(source.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def raise_charging_alerts(*, source: ChargingSource) -> int:
    """Raise (or refresh) the alerts of what the latest import of `source` brought; returns how many
    were raised (a fault alert resolved is not counted)."""
    return _raise_recurring(source) + _faults(source)
