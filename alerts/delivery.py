"""Deliveries live in the database: a failed one is retried with exponential backoff until it goes
through or its retry window closes, whatever happens to workers in between."""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from alerts import notifications
from alerts.models import Delivery, DeliveryAttempt
from tenants.tasks import tenant_task

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY_SECONDS = 10
MAX_RETRY_SECONDS = 30 * 60


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def attempt_delivery(delivery_id: int) -> Delivery | None:
    """Try once. The row lock keeps two workers from sending the same notification."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("alert", "channel")
            .filter(pk=delivery_id, state__in=[Delivery.State.PENDING, Delivery.State.RETRYING])
            .first()
        )
        if delivery is None:
            return None
        started = time.perf_counter()
        now = timezone.now()
        delivery.attempts += 1
        try:
            status_code = notifications.send(delivery)
        except notifications.DeliveryFailed as exc:
            DeliveryAttempt.objects.create(
                delivery=delivery,
                at=now,
                ok=False,
                status_code=exc.status_code,
                error=str(exc)[:1000],
                duration_ms=_ms(started),
            )
            delivery.last_error = str(exc)[:1000]
            if now - delivery.created_at >= RETRY_WINDOW:
                delivery.state = Delivery.State.FAILED
            else:
                delivery.state = Delivery.State.RETRYING
                delivery.next_attempt_at = now + backoff(delivery.attempts)
        else:
            DeliveryAttempt.objects.create(
                delivery=delivery, at=now, ok=True, status_code=status_code, duration_ms=_ms(started)
            )
            delivery.state, delivery.sent_at, delivery.last_error = Delivery.State.SENT, now, ""
        delivery.save(update_fields=["attempts", "state", "next_attempt_at", "sent_at", "last_error"])
    return delivery


def due_delivery_ids(now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            state__in=[Delivery.State.PENDING, Delivery.State.RETRYING], next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


@tenant_task(name="alerts.tasks.deliver")
def deliver(delivery_id: int) -> None:
    """One delivery, in a worker, as soon as its alert's transaction committed."""
    attempt_delivery(delivery_id)
