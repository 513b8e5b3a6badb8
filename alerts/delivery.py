"""Deliveries live in the database: a failed one is retried with exponential backoff until it goes
through or its retry window closes, whatever happens to workers in between."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts import notifications
from alerts.models import Delivery, DeliveryAttempt
from tenants.tasks import tenant_task

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY_SECONDS = 10
MAX_RETRY_SECONDS = 30 * 60


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


# A claimed delivery is not due again for this long: longer than any one send (a webhook's timeout,
# an SMTP exchange), so no two workers send it at once; a worker that died mid-send leaves it to be
# retried once the lease is over.
CLAIM_LEASE = timedelta(minutes=2)


def _claim(delivery_id: int) -> Delivery | None:
    """Take the delivery for one attempt, in a transaction of its own that ends before the send:
    no row lock or open transaction is held during the HTTP call or the SMTP exchange."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("alert", "channel")
            .filter(
                pk=delivery_id,
                state__in=[Delivery.State.PENDING, Delivery.State.RETRYING],
                next_attempt_at__lte=now,
            )
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + CLAIM_LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def attempt_delivery(delivery_id: int) -> Delivery | None:
    """Try once, if it is due and nobody else is trying it. Claimed, sent and recorded in three steps
    (see `_claim`); None when there was nothing to do."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    started = time.perf_counter()
    now = timezone.now()
    try:
        status_code = notifications.send(delivery)
    except notifications.DeliveryFailed as exc:
        attempt = DeliveryAttempt(
            delivery=delivery, at=now, ok=False, status_code=exc.status_code, error=str(exc)[:1000]
        )
        delivery.last_error = str(exc)[:1000]
        if now - delivery.created_at >= RETRY_WINDOW:
            delivery.state = Delivery.State.FAILED
        else:
            delivery.state = Delivery.State.RETRYING
            delivery.next_attempt_at = now + backoff(delivery.attempts)
    else:
        attempt = DeliveryAttempt(delivery=delivery, at=now, ok=True, status_code=status_code)
        delivery.state, delivery.sent_at, delivery.last_error = Delivery.State.SENT, now, ""
    attempt.duration_ms = _ms(started)
    with transaction.atomic():
        attempt.save()
        delivery.save(update_fields=["state", "next_attempt_at", "sent_at", "last_error"])
    return delivery


def attempt_due_deliveries(now=None, *, concurrency: int = 8) -> int:
    """Every due delivery, up to `concurrency` at once (a slow webhook target does not hold up the
    others), each on its own thread and connection. Returns how many were attempted."""
    due = due_delivery_ids(now)
    if not due:
        return 0
    schema = connection.schema_name

    def attempt(delivery_id: int) -> None:
        try:
            with schema_context(schema):
                attempt_delivery(delivery_id)
        finally:
            connection.close()  # this thread's connection back to the pool

    with ThreadPoolExecutor(max_workers=min(concurrency, len(due))) as pool:
        list(pool.map(attempt, due))
    return len(due)


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
