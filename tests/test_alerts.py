"""The alerting engine: one open alert per condition, notifications by email and signed webhook,
cooldown, silences, inhibition, retries that lose nothing."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts import configuration, fanout, services
from alerts import delivery as deliveries
from alerts.models import Alert, Channel, Delivery
from tests.webhooks import WebhookReceiver

PI = services.Source(type="device", id="cesson-b827eb123456", label="Pi Cesson", site_id="cesson", site_label="CESSON")


def raise_temperature(**overrides):
    arguments = {
        "source": PI,
        "alert_type": "temperature",
        "severity": "critical",
        "message": "Température élevée: 78.2°C",
        "value": "78.2",
    }
    return services.raise_alert(**{**arguments, **overrides})


@pytest.fixture
def in_alpha(alpha, monkeypatch):
    """Run in alpha's schema. The test's own transaction never commits, so the work the engine
    defers until after commit (notifications, live events) is carried out at once instead."""
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
    with schema_context("alpha"):
        connection.tenant = alpha.tenant
        yield


@pytest.fixture
def email_channel(in_alpha):
    return Channel.objects.create(
        name="Support", kind="email", email_recipients="support@alpha.test", min_severity="warning"
    )


@pytest.fixture
def receiver():
    target = WebhookReceiver()
    yield target
    target.stop()


def test_a_repeated_condition_updates_the_open_alert(in_alpha):
    first = raise_temperature()
    second = raise_temperature(value="79.0")

    assert first.created and not second.created
    alert = Alert.objects.get()
    assert (alert.occurrences, alert.value) == (2, "79.0")


def test_the_same_condition_raised_by_two_workers_at_once_makes_one_alert(worlds, django_db_blocker):
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with django_db_blocker.unblock(), schema_context("alpha"):
                barrier.wait()
                raise_temperature(source=services.Source(type="device", id="race-1"))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with django_db_blocker.unblock(), schema_context("alpha"):
        alerts = list(Alert.objects.filter(source_id="race-1"))
        Alert.objects.filter(source_id="race-1").delete()
    assert errors == []
    assert len(alerts) == 1
    assert alerts[0].occurrences == 2


def test_a_firing_alert_is_emailed_in_the_customers_format(email_channel):
    raise_temperature()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[Voltwatch CRITICAL] CESSON - temperature"
    assert message.to == ["support@alpha.test"]
    # The customer's template, in the tenant's language (French for alpha)
    for line in (
        "Alerte Voltwatch",
        "Site: CESSON",
        "ID du site: cesson-b827eb123456",
        "Niveau: CRITICAL",
        "Type: temperature",
        "Message: Température élevée: 78.2°C",
    ):
        assert line in message.body.splitlines()
    assert "http://alpha.localhost/alerts/" in message.body


def test_cooldown_repeats_only_after_the_interval_and_resolution_is_sent_once(email_channel):
    raised = raise_temperature()
    raise_temperature()  # a new occurrence while open: no new notification
    assert len(mail.outbox) == 1

    assert fanout.send_reminders(now=timezone.now() + timedelta(minutes=30)) == 0
    assert fanout.send_reminders(now=timezone.now() + timedelta(minutes=61)) == 1
    assert len(mail.outbox) == 2 and "RAPPEL" in mail.outbox[1].subject

    services.resolve_condition(source=PI, alert_type="temperature")
    services.resolve_condition(source=PI, alert_type="temperature")
    assert len(mail.outbox) == 3 and "RÉSOLUE" in mail.outbox[2].subject
    assert Alert.objects.get(pk=raised.alert.pk).status == "resolved"


def test_channels_below_their_minimum_severity_are_not_notified(email_channel):
    email_channel.min_severity = "critical"
    email_channel.save()

    raise_temperature(severity="warning")

    assert mail.outbox == []


def test_silenced_alerts_are_recorded_but_not_notified(email_channel):
    now = timezone.now()
    configuration.silence_create(
        by=None,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
        comment="Remplacement batterie",
        site_id="cesson",
    )

    raised = raise_temperature()

    assert raised.alert.silenced is True
    assert mail.outbox == []
    assert Alert.objects.filter(status="firing").count() == 1


def test_a_silence_for_another_site_does_not_apply(email_channel):
    now = timezone.now()
    configuration.silence_create(
        by=None, starts_at=now, ends_at=now + timedelta(hours=1), comment="x", site_id="rennes"
    )

    raise_temperature()

    assert len(mail.outbox) == 1


def test_an_offline_site_inhibits_the_alerts_of_its_devices(email_channel):
    services.raise_alert(
        source=services.Source(type="site", id="cesson", label="CESSON", site_id="cesson", site_label="CESSON"),
        alert_type="offline",
        severity="critical",
        message="Site offline",
    )
    assert len(mail.outbox) == 1

    raised = raise_temperature()

    assert raised.alert.inhibited is True
    assert len(mail.outbox) == 1


def test_a_rule_waiting_for_n_minutes_fires_only_after_them(email_channel):
    raised = raise_temperature(for_minutes=10)
    assert raised.alert.status == "pending" and mail.outbox == []

    assert services.promote_due_pending(now=timezone.now() + timedelta(minutes=5)) == 0
    assert services.promote_due_pending(now=timezone.now() + timedelta(minutes=11)) == 1
    assert Alert.objects.get().status == "firing"
    assert len(mail.outbox) == 1


def test_a_webhook_is_signed_and_carries_the_customers_fields(in_alpha, receiver):
    receiver.start()
    Channel.objects.create(
        name="Ops", kind="webhook", webhook_url=receiver.url, webhook_secret="s3cr3t", min_severity="info"
    )

    raise_temperature()

    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(b"s3cr3t", body, hashlib.sha256).hexdigest()
    assert headers["X-Voltwatch-Signature"] == expected
    payload = json.loads(body)
    assert payload["siteId"] == "cesson-b827eb123456" and payload["clubName"] == "CESSON"
    assert payload["alert"] == {
        "level": "critical",
        "type": "temperature",
        "message": "Température élevée: 78.2°C",
        "value": "78.2",
    }
    assert payload["status"] == "firing" and payload["fingerprint"]
    assert payload["url"].startswith("http://alpha.localhost/alerts/")
    assert isinstance(payload["timestamp"], int)


def test_a_webhook_target_down_then_up_gets_the_notification_once(in_alpha, receiver):
    channel = Channel.objects.create(name="Ops", kind="webhook", webhook_url=receiver.url, min_severity="info")

    raise_temperature()  # nobody listens yet
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.state == "retrying" and delivery.attempts == 1
    assert "ConnectError" in delivery.log.get().error

    receiver.start()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    for due in deliveries.due_delivery_ids():
        deliveries.attempt_delivery(due)
    for due in deliveries.due_delivery_ids():  # nothing is sent twice
        deliveries.attempt_delivery(due)

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.state == "sent" and delivery.attempts == 2
    assert [attempt.ok for attempt in delivery.log.all()] == [False, True]


def test_retries_back_off_exponentially_then_give_up_after_the_window(in_alpha, receiver):
    channel = Channel.objects.create(name="Ops", kind="webhook", webhook_url=receiver.url, min_severity="info")
    raise_temperature()
    delivery = Delivery.objects.get(channel=channel)
    assert deliveries.backoff(1) == timedelta(seconds=10)
    assert deliveries.backoff(4) == timedelta(seconds=80)
    assert deliveries.backoff(20) == timedelta(minutes=30)

    Delivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(hours=25), next_attempt_at=timezone.now()
    )
    deliveries.attempt_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.state == "failed"


def test_rules_take_the_highest_severity_that_holds(in_alpha):
    from alerts.models import AlertRule

    AlertRule.objects.create(
        name="warm",
        source_type="device",
        metric="temperature",
        operator=">",
        threshold=60,
        severity="warning",
        alert_type="temperature",
        message="{value}",
    )
    services.evaluate_metrics(source=PI, metrics={"temperature": 65.0})
    assert Alert.objects.get(type="temperature").severity == "warning"

    services.evaluate_metrics(source=PI, metrics={"temperature": 80.0})
    assert Alert.objects.get(type="temperature").severity == "critical"

    services.evaluate_metrics(source=PI, metrics={"temperature": 40.0})
    assert Alert.objects.get(type="temperature").status == "resolved"


def test_a_slack_channel_gets_a_slack_compatible_body(in_alpha, receiver):
    receiver.start()
    Channel.objects.create(
        name="Slack", kind="webhook", webhook_url=receiver.url, webhook_format="slack", min_severity="info"
    )

    raise_temperature()

    body = json.loads(receiver.requests[0][1])
    assert body["text"] == ":red_circle: [CRITICAL] CESSON - temperature: Température élevée: 78.2°C"
    assert body["voltwatch"]["fingerprint"]


def test_every_delivery_attempt_is_shown_on_the_alerts_page(in_alpha, alpha, receiver):
    Channel.objects.create(name="Ops hook", kind="webhook", webhook_url=receiver.url, min_severity="info")
    raised = raise_temperature()  # the receiver is down: the attempt fails and is logged
    connection.set_schema_to_public()

    page = alpha.http("viewer").get(f"/alerts/{raised.alert.pk}/").content.decode()

    assert "Ops hook" in page and "Retrying" in page and "ConnectError" in page


def test_a_test_notification_reaches_the_channel(in_alpha):
    channel = Channel.objects.create(name="Support", kind="email", email_recipients="ops@alpha.test")

    fanout.send_test_notification(channel=channel)

    assert mail.outbox[0].subject == "[Voltwatch TEST] Notification de test"
    assert Delivery.objects.get(channel=channel).state == "sent"


def test_a_webhook_url_typed_without_a_scheme_is_saved_as_https(alpha):
    admin = alpha.http("admin")
    response = admin.post(
        "/alerts/channels/",
        {
            "name": "Ops hook",
            "kind": "webhook",
            "min_severity": "warning",
            "repeat_interval_minutes": 60,
            "webhook_url": "hooks.example.test/voltwatch",
            "webhook_format": "voltwatch",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    with schema_context("alpha"):
        assert Channel.objects.get(name="Ops hook").webhook_url == "https://hooks.example.test/voltwatch"
