"""Default alert rules, as the apps that know their sources declare them, and the one installer that
gives each tenant those it lacks (from a migration, with the historical model, or at any time)."""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultRule:
    source_type: str
    name: str
    metric: str
    operator: str
    threshold: float
    severity: str
    alert_type: str
    message: str


def install_rules(rule_model, rules: Iterable[DefaultRule]) -> int:
    """Create the rules of `rules` that are missing, for every source (scope "all"); a rule an admin
    has edited since is left as it is. Returns how many were created."""
    created = 0
    for rule in rules:
        _rule, was_created = rule_model.objects.get_or_create(
            source_type=rule.source_type,
            metric=rule.metric,
            alert_type=rule.alert_type,
            severity=rule.severity,
            scope="all",
            defaults={
                "name": rule.name,
                "operator": rule.operator,
                "threshold": rule.threshold,
                "message": rule.message,
            },
        )
        created += was_created
    return created
