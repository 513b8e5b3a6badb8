"""Who hears of an alert, and when: a delivery for each channel that should be told (when it fires,
again while it keeps firing, when it resolves, or a channel's test), queued for a worker once the
transaction that made it commits; and an event for the tenant's open pages.

What a delivery says and how it is sent is `notifications`; its attempts and retries, `delivery`."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from alerts.delivery import deliver
from alerts.models import Alert, Channel, Delivery
from alerts.vocabulary import SEVERITY_RANK, Status
from core.realtime import notify_tenant_after_commit
from core.tasks import enqueue_if_reachable


def _eligible_channels(alert: Alert) -> list[Channel]:
    return [
        channel
        for channel in Channel.objects.filter(enabled=True)
        if SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[channel.min_severity]
    ]


def _queue(deliveries: list[Delivery]) -> None:
    """Deliver now in a worker; a delivery that cannot be queued is due, for alert_housekeeping."""
    schema = connection.schema_name
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: enqueue_if_reachable(deliver, schema, pk))


def notify_pages(*, alert: Alert, event_type: str) -> None:
    """Tell the tenant's open pages (the alert pop-up, the lists), once the transaction commits."""
    payload = {
        "id": alert.pk,
        "title": f"{alert.site_label or alert.source_label} — {alert.type}",
        "message": alert.message,
        "severity": alert.severity,
        "status": alert.status,
        "type": alert.type,
        "source": alert.source_label or alert.source_id,
        "site": alert.site_label,
    }
    notify_tenant_after_commit(connection.schema_name, event_type, payload)


def notify_firing(*, alert: Alert) -> None:
    """The alert started firing: each enabled channel of its severity or below is told, unless the
    alert is silenced or inhibited (then only the pages hear of it)."""
    if not (alert.silenced or alert.inhibited):
        _queue(
            [
                Delivery.objects.create(alert=alert, channel=channel, event=Delivery.Event.FIRING)
                for channel in _eligible_channels(alert)
            ]
        )
    notify_pages(alert=alert, event_type="alert.raised")


def notify_resolved(*, alert: Alert) -> None:
    """The alert resolved: the channels that were told it fired are told it is over."""
    told = Channel.objects.filter(enabled=True, deliveries__alert=alert).distinct()
    _queue([Delivery.objects.create(alert=alert, channel=channel, event=Delivery.Event.RESOLVED) for channel in told])
    notify_pages(alert=alert, event_type="alert.resolved")


def send_reminders(*, now: datetime | None = None) -> int:
    """Alerts still firing are notified again once the channel's repeat interval has passed."""
    now = now or timezone.now()
    created = []
    firing = Alert.objects.filter(status=Status.FIRING, silenced=False, inhibited=False)
    for alert in firing:
        for channel in _eligible_channels(alert):
            last = (
                Delivery.objects.filter(
                    alert=alert, channel=channel, event__in=[Delivery.Event.FIRING, Delivery.Event.REPEAT]
                )
                .order_by("-created_at")
                .values_list("created_at", flat=True)
                .first()
            )
            if last is not None and last + timedelta(minutes=channel.repeat_interval_minutes) <= now:
                created.append(
                    Delivery.objects.create(alert=alert, channel=channel, event=Delivery.Event.REPEAT, created_at=now)
                )
    _queue(created)
    return len(created)


def send_test_notification(*, channel: Channel) -> Delivery:
    delivery = Delivery.objects.create(channel=channel, event=Delivery.Event.TEST)
    _queue([delivery])
    return delivery
