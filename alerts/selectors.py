from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from alerts.models import OPEN_STATUSES, Alert, AlertRule, Channel, Delivery, Scope, Silence


def open_alert_severities(*, source_type: str, source_id: str) -> dict:
    rows = (
        Alert.objects.filter(source_type=source_type, source_id=source_id, status__in=OPEN_STATUSES)
        .exclude(status="pending")
        .values_list("severity", "type")
    )
    return {"severities": {row[0] for row in rows}, "types": {row[1] for row in rows}}


def sources_with_open_alerts(source_type: str) -> set[str]:
    """The ids of the sources of a type that have an open alert (pending, firing or acknowledged)."""
    return set(
        Alert.objects.filter(source_type=source_type, status__in=OPEN_STATUSES)
        .order_by()
        .values_list("source_id", flat=True)
        .distinct()
    )


def open_alert_types(*, source_type: str, source_ids: Iterable[str] | None = None) -> dict[str, set[str]]:
    """The types of each source's open alerts (pending, firing or acknowledged), for the sources of
    `source_type` that have any (only those of `source_ids` when given)."""
    alerts = Alert.objects.filter(source_type=source_type, status__in=OPEN_STATUSES)
    if source_ids is not None:
        alerts = alerts.filter(source_id__in=list(source_ids))
    types: dict[str, set[str]] = {}
    for source_id, alert_type in alerts.order_by().values_list("source_id", "type"):
        types.setdefault(source_id, set()).add(alert_type)
    return types


def open_alert_counts(*, source_type: str) -> dict[str, int]:
    """How many open alerts (firing or acknowledged, not pending) each source of `source_type` has."""
    rows = (
        Alert.objects.filter(source_type=source_type, status__in=OPEN_STATUSES)
        .exclude(status="pending")
        .values("source_id")
        .annotate(n=Count("id"))
    )
    return {row["source_id"]: row["n"] for row in rows}


def source_alerts(*, source_type: str, source_id: str | None = None, include_resolved: bool = False) -> QuerySet[Alert]:
    """The alerts of the sources of `source_type` (of one source when `source_id` is given), newest
    first: those open (firing or acknowledged, not pending), or every one with `include_resolved`."""
    alerts = Alert.objects.filter(source_type=source_type)
    if source_id is not None:
        alerts = alerts.filter(source_id=source_id)
    if not include_resolved:
        alerts = alerts.filter(status__in=OPEN_STATUSES).exclude(status="pending")
    return alerts.order_by("-last_seen")


def rules_for(source_type: str) -> list[AlertRule]:
    """The enabled rules of a kind of source; pass them to `services.evaluate_metrics` when
    evaluating many sources at once."""
    return list(AlertRule.objects.filter(source_type=source_type, enabled=True))


def enabled_rule(*, source_type: str, alert_type: str) -> AlertRule | None:
    """The enabled rule that raises `alert_type` for `source_type`, if any."""
    return AlertRule.objects.filter(source_type=source_type, alert_type=alert_type, enabled=True).first()


def source_thresholds(*, source_type: str, source_id: str, alert_types: Iterable[str]) -> dict[str, float]:
    """The thresholds of the rules scoped to one source, by alert type (those of `alert_types`)."""
    rules = AlertRule.objects.filter(
        source_type=source_type, scope=Scope.SOURCE, scope_source_id=source_id, alert_type__in=list(alert_types)
    )
    return dict(rules.values_list("alert_type", "threshold"))


def filtered_alerts(
    *,
    severity: str = "",
    status: str = "",
    site: str = "",
    alert_type: str = "",
    source_type: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    search: str = "",
) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("assignee", "acknowledged_by")
    if severity:
        alerts = alerts.filter(severity=severity)
    if status == "open":
        alerts = alerts.filter(status__in=OPEN_STATUSES)
    elif status:
        alerts = alerts.filter(status=status)
    if site:
        alerts = alerts.filter(Q(site_id=site) | Q(site_label__iexact=site))
    if alert_type:
        alerts = alerts.filter(Q(type=alert_type) | Q(type__startswith=f"{alert_type}:"))
    if source_type:
        alerts = alerts.filter(source_type=source_type)
    if since:
        alerts = alerts.filter(last_seen__gte=since)
    if until:
        alerts = alerts.filter(first_seen__lt=until)
    if search:
        alerts = alerts.filter(
            Q(message__icontains=search) | Q(source_label__icontains=search) | Q(site_label__icontains=search)
        )
    return alerts.order_by("-last_seen")


def open_counts(*, source_type: str | None = None) -> dict[str, int]:
    """How many alerts are open (firing or acknowledged, not pending): in all, critical, warning; of
    every source, or of the sources of `source_type`."""
    alerts = Alert.objects.filter(status__in=OPEN_STATUSES).exclude(status="pending")
    if source_type is not None:
        alerts = alerts.filter(source_type=source_type)
    return alerts.aggregate(
        total=Count("id"),
        critical=Count("id", filter=Q(severity="critical")),
        warning=Count("id", filter=Q(severity="warning")),
    )


def alert_sites() -> list[tuple[str, str]]:
    return list(
        Alert.objects.exclude(site_id="").values_list("site_id", "site_label").distinct().order_by("site_label")
    )


def alert_types() -> list[str]:
    return sorted({t.split(":")[0] for t in Alert.objects.values_list("type", flat=True).distinct()})


def deliveries_of(alert: Alert) -> QuerySet[Delivery]:
    return alert.deliveries.select_related("channel").prefetch_related("log").order_by("created_at")


def channels() -> QuerySet[Channel]:
    return Channel.objects.order_by("name")


def silences() -> QuerySet[Silence]:
    return Silence.objects.select_related("author").order_by("-ends_at")
