"""A source's own thresholds, set by the app that owns the source (an asset's in telemetry): each
is a rule scoped to that one source, which replaces the general rule of its alert type for it only
(the most specific rule wins, see `evaluation.most_specific`).

Not in the audit log as a rule change: the owning app records the edit of its source, of which the
thresholds are part."""

from alerts.defaults import DefaultRule
from alerts.models import AlertRule, Scope


def rule_set_source_threshold(
    *, source_type: str, source_id: str, threshold: float | None, template: DefaultRule, label: str
) -> None:
    """Set (a number) or clear (None) one source's own threshold for `template`'s alert type.
    `label` names the source in the rule's name."""
    scoped = AlertRule.objects.filter(
        source_type=source_type, alert_type=template.alert_type, scope=Scope.SOURCE, scope_source_id=source_id
    )
    if threshold is None:
        scoped.delete()
        return
    if not scoped.update(threshold=threshold, enabled=True):
        AlertRule.objects.create(
            name=f"{template.name} — {label}",
            source_type=source_type,
            metric=template.metric,
            operator=template.operator,
            severity=template.severity,
            message=template.message,
            alert_type=template.alert_type,
            threshold=threshold,
            scope=Scope.SOURCE,
            scope_source_id=source_id,
        )
