"""Deliveries against a real, slow webhook target, on committed rows (each attempt runs in its own
transactions and threads): an attempt holds no lock while it sends, a delivery being sent is not
sent again, and housekeeping sends due deliveries side by side."""

import threading
import time

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from alerts import delivery as deliveries
from alerts import fanout, services
from alerts.models import Alert, Channel, Delivery
from tests.webhooks import WebhookReceiver

SLOW_S = 1.0


class DueDeliveries:
    def __init__(self, world, target: WebhookReceiver):
        self.world, self.target, self.channels = world, target, []

    def make(self, count: int) -> list[int]:
        """`count` committed firing deliveries of alpha to the slow target, due now, not queued."""
        with self.world.blocker.unblock(), schema_context(self.world.slug):
            connection.tenant = self.world.tenant
            url = self.target.url
            channel = Channel.objects.create(name="Slow", kind="webhook", webhook_url=url, min_severity="info")
            self.channels.append(channel)
            for number in range(count):
                source = services.Source(type="device", id=f"slow-{number}", label=f"Slow {number}")
                services.raise_alert(source=source, alert_type="door", severity="warning", message="Open")
            made = list(Delivery.objects.filter(channel=channel).values_list("pk", flat=True))
        connection.set_schema_to_public()
        return made

    def run(self, func, *args):
        """`func(*args)` in alpha, committed, on this thread's own connection."""
        with self.world.blocker.unblock(), schema_context(self.world.slug):
            try:
                return func(*args)
            finally:
                connection.close()


@pytest.fixture
def due(worlds, monkeypatch):
    monkeypatch.setattr(fanout, "enqueue_if_reachable", lambda *args, **kwargs: False)  # the test sends
    target = WebhookReceiver(delay=SLOW_S).start()
    helper = DueDeliveries(worlds["alpha"], target)
    yield helper
    target.stop()
    with worlds["alpha"].blocker.unblock(), schema_context("alpha"):
        Alert.objects.filter(source_id__startswith="slow-").delete()
        for channel in helper.channels:
            channel.delete()
    connection.set_schema_to_public()


def test_a_delivery_being_sent_holds_no_lock_and_is_not_sent_twice(due):
    [pk] = due.make(1)
    sending = threading.Thread(target=due.run, args=(deliveries.attempt_delivery, pk))
    sending.start()
    assert due.target.first_request.wait(5)

    started = time.perf_counter()
    due.run(lambda: Delivery.objects.filter(pk=pk).update(last_error="touched while sending"))
    touched_in = time.perf_counter() - started
    second = due.run(deliveries.attempt_delivery, pk)
    sending.join(10)

    assert touched_in < SLOW_S / 2  # no row lock held during the HTTP call
    assert second is None  # claimed by the first: the second attempt does nothing
    delivery = due.run(lambda: Delivery.objects.get(pk=pk))
    assert (delivery.state, delivery.attempts, len(due.target.requests)) == ("sent", 1, 1)


def test_housekeeping_sends_due_deliveries_side_by_side(due):
    made = due.make(6)

    started = time.perf_counter()
    attempted = due.run(deliveries.attempt_due_deliveries)
    took = time.perf_counter() - started

    assert attempted == 6
    assert took < 3 * SLOW_S  # one after another would take 6 s
    states = due.run(lambda: sorted(Delivery.objects.filter(pk__in=made).values_list("state", flat=True)))
    assert states == ["sent"] * 6
    assert len(due.target.requests) == 6
