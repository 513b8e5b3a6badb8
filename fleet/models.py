from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeviceStatus(models.TextChoices):
    NEW = "new", _("New")
    OK = "ok", _("OK")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")
    OFFLINE = "offline", _("Offline")


class Device(models.Model):
    """A field device (e.g. a Raspberry Pi at a club) running the Voltwatch agent."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="devices")
    external_id = models.CharField(_("device id"), max_length=128, unique=True, help_text=_("The agent's SITE_ID."))
    name = models.CharField(_("name"), max_length=150, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.NEW, db_index=True
    )
    is_new = models.BooleanField(_("new"), default=True, help_text=_("Registered automatically, not reviewed yet."))
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)
    last_metrics_at = models.DateTimeField(_("last metrics"), null=True, blank=True)
    agent_version = models.CharField(_("agent version"), max_length=32, blank=True)
    latest = models.JSONField(_("latest metrics"), default=dict, blank=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["site__name", "external_id"]

    def __str__(self) -> str:
        return self.name or self.external_id


class MetricSnapshot(models.Model):
    """One metrics report of a device, as sent every few minutes by its agent."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="snapshots")
    time = models.DateTimeField(_("time"))
    received_at = models.DateTimeField(default=timezone.now)
    cpu_usage = models.FloatField(null=True)
    cpu_cores = models.PositiveSmallIntegerField(null=True)
    memory_percent = models.FloatField(null=True)
    memory_used = models.BigIntegerField(null=True)
    memory_total = models.BigIntegerField(null=True)
    temperature = models.FloatField(null=True)
    disk_percent = models.FloatField(null=True)
    disk_used = models.BigIntegerField(null=True)
    disk_available = models.BigIntegerField(null=True)
    disk_size = models.BigIntegerField(null=True)
    payload = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "time"], name="fleet_one_snapshot_per_time")]
        indexes = [models.Index(fields=["device", "-time"], name="fleet_snapshot_recent")]
        ordering = ["-time"]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.time:%Y-%m-%d %H:%M}"


class SweepState(models.Model):
    """When offline detection last ran: after a gap (platform down), devices get a grace period
    instead of all being declared offline at once."""

    last_run = models.DateTimeField()
    grace_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"offline sweep last run {self.last_run:%Y-%m-%d %H:%M:%S}"
