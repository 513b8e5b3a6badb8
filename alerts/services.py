"""An alert's life, from a condition seen to its resolution: raised, pending or firing, acknowledged,
assigned, commented on, resolved — by the condition clearing or by a person.

Other apps call `raise_alert` / `resolve_condition` (or `evaluate_metrics` with the rules, inside
`batch()` for a sweep) and never touch the models. What a rule means is `evaluation`; what keeps an
alert quiet, `suppression`; who is told, `fanout`.
"""

import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_actor, audit_value, person_of, record_audit
from alerts import evaluation, fanout, suppression
from alerts.models import Alert, AlertComment, AlertRule
from alerts.selectors import rules_for
from alerts.vocabulary import SEVERITY_RANK, Severity, Status


@dataclass(frozen=True)
class Source:
    """What an alert is about, as the raising app names it."""

    type: str
    id: str
    label: str = ""
    site_id: str = ""
    site_label: str = ""


@dataclass(frozen=True)
class Raised:
    alert: Alert
    created: bool
    became_firing: bool


def fingerprint(source_type: str, source_id: str, alert_type: str) -> str:
    return hashlib.sha256(f"{source_type}\x1f{source_id}\x1f{alert_type}".encode()).hexdigest()[:40]


_UPSERT = """
INSERT INTO alerts_alert (fingerprint, source_type, source_id, source_label, site_id, site_label, type, severity,
    message, value, labels, status, first_seen, last_seen, fires_at, occurrences, silenced, inhibited, rule_id)
VALUES (%(fingerprint)s, %(source_type)s, %(source_id)s, %(source_label)s, %(site_id)s, %(site_label)s, %(type)s,
    %(severity)s, %(message)s, %(value)s, %(labels)s::jsonb, %(status)s, %(now)s, %(now)s, %(fires_at)s, 1,
    false, false, %(rule_id)s)
ON CONFLICT (fingerprint) WHERE status <> 'resolved' DO UPDATE SET
    last_seen = EXCLUDED.last_seen, occurrences = alerts_alert.occurrences + 1, value = EXCLUDED.value,
    message = EXCLUDED.message, severity = EXCLUDED.severity, labels = EXCLUDED.labels,
    source_label = EXCLUDED.source_label, site_label = EXCLUDED.site_label
RETURNING id, (xmax = 0) AS inserted
"""


def raise_alert(
    *,
    source: Source,
    alert_type: str,
    severity: str,
    message: str,
    value=None,
    labels: dict | None = None,
    for_minutes: int = 0,
    rule: AlertRule | None = None,
    at: datetime | None = None,
) -> Raised:
    """Record an occurrence of a condition. While an alert with the same fingerprint is open, the
    occurrence updates it (count, last seen, value) instead of opening a second one."""
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose one of: %s.") % ", ".join(Severity.values)})
    now = at or timezone.now()
    params = {
        "fingerprint": fingerprint(source.type, source.id, alert_type),
        "source_type": source.type,
        "source_id": source.id,
        "source_label": source.label[:200],
        "site_id": source.site_id,
        "site_label": source.site_label[:200],
        "type": alert_type,
        "severity": severity,
        "message": message,
        "value": "" if value is None else f"{value}"[:64],
        "labels": json.dumps(labels or {}, cls=DjangoJSONEncoder),
        "status": Status.PENDING if for_minutes else Status.FIRING,
        "now": now,
        "fires_at": now + timedelta(minutes=for_minutes) if for_minutes else None,
        "rule_id": rule.pk if rule else None,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT, params)
        alert_id, created = cursor.fetchone()
        became_firing = created and not for_minutes
        if not created:
            cursor.execute(
                "UPDATE alerts_alert SET status = 'firing' WHERE id = %s AND status = 'pending' AND fires_at <= %s "
                "RETURNING id",
                [alert_id, now],
            )
            became_firing = cursor.fetchone() is not None
        alert = Alert.objects.get(pk=alert_id)
        if became_firing:
            _on_firing(alert)
    known_open = _open_fingerprints()
    if known_open is not None:
        known_open.add(params["fingerprint"])
    return Raised(alert, created, became_firing)


_RESOLVE = """
UPDATE alerts_alert SET status = 'resolved', resolved_at = %(now)s, resolved_by_id = %(by)s
FROM (SELECT id, status AS previous FROM alerts_alert WHERE {where} AND status <> 'resolved' FOR UPDATE) old
WHERE alerts_alert.id = old.id
RETURNING alerts_alert.id, old.previous
"""


def _resolve_where(where: str, params: dict, *, resolved_by=None) -> list[Alert]:
    params = {**params, "now": timezone.now(), "by": resolved_by.pk if resolved_by is not None else None}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RESOLVE.format(where=where), params)
        rows = cursor.fetchall()
        alerts = []
        for alert_id, previous in rows:
            alert = Alert.objects.get(pk=alert_id)
            if previous != Status.PENDING:  # a pending alert never fired: nobody was told of it
                fanout.notify_resolved(alert=alert)
            alerts.append(alert)
    return alerts


def _open_fingerprints() -> set[str] | None:
    """In a batch, the fingerprints of every open alert, read once: clearing conditions that have no
    open alert (the common case: a healthy reading) then costs no query."""
    if getattr(_batch, "cache", None) is None:
        return None
    return _cached(
        "open-fingerprints",
        lambda: set(Alert.objects.exclude(status=Status.RESOLVED).values_list("fingerprint", flat=True)),
    )


def resolve_condition(*, source: Source, alert_type: str) -> Alert | None:
    """The condition behind an alert cleared: resolve it (and tell whoever was told it fired)."""
    key = fingerprint(source.type, source.id, alert_type)
    known_open = _open_fingerprints()
    if known_open is not None:
        if key not in known_open:
            return None
        known_open.discard(key)
    resolved = _resolve_where("fingerprint = %(fp)s", {"fp": key})
    return resolved[0] if resolved else None


# --- Handled by people ---------------------------------------------------------------------------
# Each in the tenant's audit log: who (a person, or an API key), what, on which alert. `by` is the
# user or the API key's principal; an alert or a comment names the person only (none for a key).


def alert_resolve(*, alert: Alert, by, ip_address: str | None = None) -> Alert:
    """Resolved by hand (the channels told it fired are told it is over); an alert already resolved
    stays as it was, and nothing is recorded."""
    with transaction.atomic():
        if _resolve_where("id = %(id)s", {"id": alert.pk}, resolved_by=person_of(by)):
            record_audit(**audit_actor(by), action="alert.resolved", target=alert, ip_address=ip_address)
    alert.refresh_from_db()
    return alert


def alert_acknowledge(*, alert: Alert, by, ip_address: str | None = None) -> Alert:
    """Someone is on it: a firing alert is acknowledged (an alert in any other state is left as it is,
    and nothing is recorded)."""
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, status=Status.FIRING).update(
            status=Status.ACKNOWLEDGED, acknowledged_by=person_of(by), acknowledged_at=timezone.now()
        )
        alert.refresh_from_db()
        if updated:
            record_audit(**audit_actor(by), action="alert.acknowledged", target=alert, ip_address=ip_address)
            fanout.notify_pages(alert=alert, event_type="alert.acknowledged")
    return alert


def alert_assign(*, alert: Alert, assignee, by, ip_address: str | None = None) -> Alert:
    """Give the alert to `assignee` (None: to nobody), said in a comment on the alert too."""
    with transaction.atomic():
        alert.assignee = assignee
        alert.save(update_fields=["assignee"])
        _comment(
            alert=alert,
            author=person_of(by),
            body=_("Assigned to %(user)s.") % {"user": assignee} if assignee else _("Unassigned."),
        )
        record_audit(
            **audit_actor(by),
            action="alert.assigned",
            target=alert,
            ip_address=ip_address,
            assignee=assignee.email if assignee else None,
        )
        fanout.notify_pages(alert=alert, event_type="alert.updated")
    return alert


def alert_comment(*, alert: Alert, by, body: str, ip_address: str | None = None) -> AlertComment:
    with transaction.atomic():
        comment = _comment(alert=alert, author=person_of(by), body=body)
        record_audit(
            **audit_actor(by),
            action="alert.commented",
            target=alert,
            ip_address=ip_address,
            body=audit_value("body", comment.body),
        )
    return comment


def _comment(*, alert: Alert, author, body: str) -> AlertComment:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something.")})
    return AlertComment.objects.create(alert=alert, author=author, body=body)


# --- Evaluation ----------------------------------------------------------------------------------
# The rules are read with `alerts.selectors.rules_for`, imported by name: telemetry/thresholds.py
# (being rewritten elsewhere) calls it as `alerts.services.rules_for`, which this keeps working.


def evaluate_metrics(
    *,
    source: Source,
    metrics: dict[str, float | None],
    at: datetime | None = None,
    extremes: dict[str, tuple[float, float]] | None = None,
    rules: list[AlertRule] | None = None,
) -> list[Raised]:
    """Apply the tenant's enabled rules for `source.type` to `metrics`: raise what is true, resolve
    what cleared. A metric may carry an item after a colon (`service_stopped:nginx`).

    `extremes` gives (lowest, highest) of each metric over a batch of readings: a rule watching for
    a value above its threshold tests the highest, one watching for below tests the lowest, so a
    spike inside a batch is not hidden by the batch's last value.

    The most specific rules win: a rule for this very source replaces the site's and the general
    rules of the same alert type, a site rule replaces the general ones.
    """
    candidates = rules if rules is not None else rules_for(source.type)
    applicable = evaluation.most_specific(
        [
            rule
            for rule in candidates
            if rule.source_type == source.type and evaluation.applies(rule, source_id=source.id, site_id=source.site_id)
        ]
    )
    # Several rules may watch one alert type (warning at 60 °C, critical at 75 °C): the alert is on
    # when any of them is true, at the highest severity among those.
    verdicts: dict[str, tuple[AlertRule | None, float, str]] = {}
    for rule in applicable:
        for key, last in metrics.items():
            base, _sep, item = key.partition(":")
            if base != rule.metric or last is None:
                continue
            lowest, highest = extremes[key] if extremes and key in extremes else (last, last)
            value = evaluation.tested(rule, latest=last, lowest=lowest, highest=highest)
            alert_type = f"{rule.alert_type}:{item}" if item else rule.alert_type
            current = verdicts.setdefault(alert_type, (None, last, item))
            if evaluation.holds(rule, value) and (
                current[0] is None or SEVERITY_RANK[rule.severity] > SEVERITY_RANK[current[0].severity]
            ):
                verdicts[alert_type] = (rule, value, item)
    raised = []
    for alert_type, (rule, value, item) in verdicts.items():
        if rule is None:
            resolve_condition(source=source, alert_type=alert_type)
            continue
        message = rule.message.format(
            value=f"{value:g}",
            threshold=f"{rule.threshold:g}",
            item=item,
            source=source.label or source.id,
            site=source.site_label,
        )
        raised.append(
            raise_alert(
                source=source,
                alert_type=alert_type,
                severity=rule.severity,
                message=message,
                value=f"{value:g}",
                for_minutes=rule.for_minutes,
                rule=rule,
                at=at,
            )
        )
    return raised


def promote_due_pending(*, now: datetime | None = None) -> int:
    """Pending alerts whose "for at least N minutes" has elapsed start firing."""
    now = now or timezone.now()
    count = 0
    for alert in Alert.objects.filter(status=Status.PENDING, fires_at__lte=now):
        if Alert.objects.filter(pk=alert.pk, status=Status.PENDING).update(status=Status.FIRING):
            alert.refresh_from_db()
            _on_firing(alert)
            count += 1
    return count


# --- Sweeps, silences, inhibition -----------------------------------------------------------------


_batch = threading.local()


@contextmanager
def batch():
    """Raise and clear many alerts at once (a sweep): the active silences, the inhibiting alerts and
    the fingerprints of the open alerts are read once for the batch instead of once per alert."""
    if getattr(_batch, "cache", None) is not None:
        yield
        return
    _batch.cache = {}
    try:
        yield
    finally:
        _batch.cache = None


def _cached(name: str, load):
    cache = getattr(_batch, "cache", None)
    if cache is None:
        return load()
    if name not in cache:
        cache[name] = load()
    return cache[name]


def _suppression(alert: Alert) -> tuple[bool, bool]:
    """Whether a silence covers the alert, and whether an inhibiting alert speaks for it; in a batch,
    the silences and the inhibiting alerts are read once for all of its alerts."""
    silenced = suppression.is_silenced(alert, _cached("silences", suppression.active_silences))
    inhibited = suppression.may_be_inhibited(alert) and suppression.is_inhibited(
        alert, _cached("inhibiting", suppression.inhibiting_alerts)
    )
    return silenced, inhibited


def _on_firing(alert: Alert) -> None:
    alert.silenced, alert.inhibited = _suppression(alert)
    Alert.objects.filter(pk=alert.pk).update(silenced=alert.silenced, inhibited=alert.inhibited)
    fanout.notify_firing(alert=alert)
