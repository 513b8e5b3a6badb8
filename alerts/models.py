"""Alerts, the rules that raise them, silences, notification channels and deliveries.

This app knows nothing of fleet, telemetry or charging: a source is named by a type and an id.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.vocabulary import OPEN_STATUSES, SEVERITY_RANK, Severity, Status  # noqa: F401  (re-exported)
from core.crypto import EncryptedTextField


class Alert(models.Model):
    fingerprint = models.CharField(max_length=64, db_index=True)
    source_type = models.CharField(_("source type"), max_length=32)
    source_id = models.CharField(_("source id"), max_length=128)
    source_label = models.CharField(_("source"), max_length=200, blank=True)
    site_id = models.CharField(_("site id"), max_length=128, blank=True, db_index=True)
    site_label = models.CharField(_("site"), max_length=200, blank=True)
    type = models.CharField(_("type"), max_length=100, db_index=True)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    message = models.TextField(_("message"))
    value = models.CharField(_("value"), max_length=64, blank=True)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.FIRING)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    fires_at = models.DateTimeField(null=True, blank=True)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    silenced = models.BooleanField(_("silenced"), default=False)
    inhibited = models.BooleanField(_("inhibited"), default=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_alerts"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey("AlertRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-last_seen"]
        constraints = [
            # Two workers raising the same alert at the same instant still make one open alert.
            models.UniqueConstraint(
                fields=["fingerprint"], condition=~Q(status="resolved"), name="alerts_one_open_per_fingerprint"
            )
        ]
        indexes = [models.Index(fields=["status", "severity"], name="alerts_status_severity")]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.site_label or self.source_label} - {self.type}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED


class AlertComment(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.body[:60]


class Operator(models.TextChoices):
    GT = ">", ">"
    GTE = ">=", "≥"
    LT = "<", "<"
    LTE = "<=", "≤"
    EQ = "==", "="
    NEQ = "!=", "≠"


class Scope(models.TextChoices):
    ALL = "all", _("All sources")
    SITE = "site", _("One site")
    SOURCE = "source", _("One source")


class AlertRule(models.Model):
    """`metric operator threshold` on a kind of source raises `alert_type` at `severity`.

    EDITABLE_FIELDS are what the portal form and the API let people change.

    A metric may carry items (`service_stopped:nginx`): the rule on `service_stopped` then applies
    to each item and the alert's type carries the item too.
    """

    name = models.CharField(_("name"), max_length=120)
    source_type = models.CharField(_("source type"), max_length=32, help_text=_("device, battery, meter, …"))
    metric = models.CharField(_("metric"), max_length=64)
    operator = models.CharField(_("operator"), max_length=2, choices=Operator.choices)
    threshold = models.FloatField(_("threshold"))
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    alert_type = models.CharField(_("alert type"), max_length=64)
    message = models.CharField(
        _("message"), max_length=200, help_text=_("May use {value}, {threshold}, {item}, {source}, {site}.")
    )
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.ALL)
    scope_site_id = models.CharField(_("site id"), max_length=128, blank=True)
    scope_source_id = models.CharField(_("source id"), max_length=128, blank=True)
    for_minutes = models.PositiveIntegerField(_("for at least (minutes)"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    EDITABLE_FIELDS = (
        "name",
        "source_type",
        "metric",
        "operator",
        "threshold",
        "severity",
        "alert_type",
        "message",
        "scope",
        "scope_site_id",
        "scope_source_id",
        "for_minutes",
        "enabled",
    )

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["source_type", "metric", "threshold"]

    def __str__(self) -> str:
        return f"{self.source_type}.{self.metric} {self.operator} {self.threshold:g} → {self.severity}"


class Silence(models.Model):
    """A maintenance window: matching alerts are recorded but not notified."""

    site_id = models.CharField(_("site id"), max_length=128, blank=True, help_text=_("Empty: any site."))
    source_id = models.CharField(_("source id"), max_length=128, blank=True, help_text=_("Empty: any source."))
    alert_type = models.CharField(_("alert type"), max_length=100, blank=True, help_text=_("Empty: any type."))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.CharField(_("comment"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("silence")
        verbose_name_plural = _("silences")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.comment


class Channel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")

    class WebhookFormat(models.TextChoices):
        VOLTWATCH = "voltwatch", _("Voltwatch JSON")
        SLACK = "slack", _("Slack-compatible")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    min_severity = models.CharField(
        _("minimum severity"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    repeat_interval_minutes = models.PositiveIntegerField(_("repeat every (minutes)"), default=60)
    enabled = models.BooleanField(_("enabled"), default=True)
    email_recipients = models.TextField(_("recipients"), blank=True, help_text=_("Comma-separated addresses."))
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = EncryptedTextField(_("signing secret"), blank=True)
    webhook_format = models.CharField(
        _("body format"), max_length=16, choices=WebhookFormat.choices, default=WebhookFormat.VOLTWATCH
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.email_recipients.split(",") if address.strip()]


class Delivery(models.Model):
    class Event(models.TextChoices):
        FIRING = "firing", _("Firing")
        REPEAT = "repeat", _("Reminder")
        RESOLVED = "resolved", _("Resolved")
        TEST = "test", _("Test")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETRYING = "retrying", _("Retrying")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=16, choices=Event.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel_id} ({self.state})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"
