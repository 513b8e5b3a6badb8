"""What a rule means, in one place: which sources it applies to (its scope, the most specific rules
winning), which figure of a batch it tests (the highest for "above", the lowest for "below", else
the latest) and how it compares. Used one source at a time by `services.evaluate_metrics`, and over
many sources at once, in numpy, by `out_of_bounds`: the first pass of a busy tenant's checks."""

import operator as op

import numpy as np

from alerts.models import AlertRule, Scope

COMPARATORS = {">": op.gt, ">=": op.ge, "<": op.lt, "<=": op.le, "==": op.eq, "!=": op.ne}
RISING = {">", ">="}
FALLING = {"<", "<="}
SCOPE_RANK = {Scope.SOURCE: 2, Scope.SITE: 1, Scope.ALL: 0}


def applies(rule: AlertRule, *, source_id: str, site_id: str) -> bool:
    if rule.scope == Scope.SITE:
        return rule.scope_site_id == site_id
    if rule.scope == Scope.SOURCE:
        return rule.scope_source_id == source_id
    return True


def most_specific(rules: list[AlertRule]) -> list[AlertRule]:
    """Of rules that apply to one source, those of the most specific scope for each alert type: a
    rule for this very source replaces its site's and the general ones, a site's the general ones."""
    top: dict[str, int] = {}
    for rule in rules:
        top[rule.alert_type] = max(top.get(rule.alert_type, 0), SCOPE_RANK[rule.scope])
    return [rule for rule in rules if SCOPE_RANK[rule.scope] == top[rule.alert_type]]


def tested(rule: AlertRule, *, latest, lowest, highest):
    """The figure `rule` compares: the highest for a rule watching for "above", the lowest for
    "below" (so a spike inside a batch counts), the latest otherwise."""
    if rule.operator in RISING:
        return highest
    if rule.operator in FALLING:
        return lowest
    return latest


def holds(rule: AlertRule, value) -> bool:
    return COMPARATORS[rule.operator](value, rule.threshold)


def out_of_bounds(
    rules: list[AlertRule],
    figures: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    source_ids: np.ndarray,
    site_ids: np.ndarray,
) -> np.ndarray:
    """For each source (aligned arrays), whether a rule that applies to it by its scope finds one of
    its figures — `figures[metric]` = (lowest, highest, latest), NaN where absent — out of bounds.
    A superset of what `evaluate_metrics` raises for them (the most specific rule may be laxer),
    never less: a source found in bounds here has nothing to raise."""
    found = np.zeros(len(source_ids), dtype=bool)
    for rule in rules:
        if rule.metric not in figures:
            continue
        lowest, highest, latest = figures[rule.metric]
        value = tested(rule, latest=latest, lowest=lowest, highest=highest)
        hit = holds(rule, value) & ~np.isnan(value)
        if rule.scope == Scope.SITE:
            hit &= site_ids == rule.scope_site_id
        elif rule.scope == Scope.SOURCE:
            hit &= source_ids == rule.scope_source_id
        found |= hit
    return found
