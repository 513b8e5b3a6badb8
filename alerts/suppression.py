"""What keeps a firing alert from being notified, though it is recorded: a silence (a maintenance
window over a site, a source or an alert type) or an inhibiting alert (an offline site speaks for
the alerts of everything at it).

The readers here are plain queries and the matchers plain functions of what they read, so that
`services` can read once for a whole sweep (`services.batch`) and match many alerts against it."""

from datetime import datetime

from django.utils import timezone

from alerts.models import Alert, Silence
from alerts.vocabulary import Status

# Alert types that speak for everything at their source or site while they fire (an offline site):
# declared by the apps that raise them (`inhibit_while`), so this engine names none of them.
_INHIBITING_TYPES: set[str] = set()


def inhibit_while(alert_type: str) -> None:
    """While an alert of `alert_type` fires (or is acknowledged) on a source, or on a site, the other
    alerts of that source, or of every source at that site, are recorded but not notified."""
    _INHIBITING_TYPES.add(alert_type)


def active_silences(at: datetime | None = None) -> list[Silence]:
    at = at or timezone.now()
    return list(Silence.objects.filter(starts_at__lte=at, ends_at__gt=at))


def _type_matches(pattern: str, alert_type: str) -> bool:
    return not pattern or pattern == alert_type or alert_type.startswith(pattern + ":")


def is_silenced(alert: Alert, silences: list[Silence]) -> bool:
    """Whether one of `silences` (those active, see `active_silences`) covers the alert."""
    return any(
        silence.site_id in ("", alert.site_id)
        and silence.source_id in ("", alert.source_id)
        and _type_matches(silence.alert_type, alert.type)
        for silence in silences
    )


def may_be_inhibited(alert: Alert) -> bool:
    """False when nothing could inhibit the alert (it is a site's own, or no app declared an
    inhibiting type): then the inhibiting alerts need not be read at all."""
    return alert.source_type != "site" and bool(_INHIBITING_TYPES)


def inhibiting_alerts() -> list[tuple[int, str, str]]:
    """(pk, source type, source id) of every inhibiting alert firing or acknowledged now."""
    return list(
        Alert.objects.filter(type__in=_INHIBITING_TYPES, status__in=[Status.FIRING, Status.ACKNOWLEDGED]).values_list(
            "pk", "source_type", "source_id"
        )
    )


def is_inhibited(alert: Alert, inhibiting: list[tuple[int, str, str]]) -> bool:
    """Whether one of `inhibiting` (see `inhibiting_alerts`) speaks for this alert: it is on the
    alert's own source, or on the site the alert's source is at."""
    return any(
        pk != alert.pk
        and (
            (source_type == "site" and alert.site_id and source_id == alert.site_id)
            or (source_type == alert.source_type and source_id == alert.source_id)
        )
        for pk, source_type, source_id in inhibiting
    )
