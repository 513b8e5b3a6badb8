from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class AssetKind(models.TextChoices):
    BATTERY = "battery", _("Battery")
    METER = "meter", _("Meter")


class AssetType(models.Model):
    """A client's own kind of asset ("Type"), with the custom fields its assets carry.

    `custom_fields` is a list of {"name", "label", "kind": text|number|boolean|date|choice, "unit",
    "required", "choices"}; assets of the type hold the values in `custom_values`, validated.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AssetKind.choices, default=AssetKind.BATTERY)
    description = models.TextField(_("description"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=list, blank=True)
    can_database = models.TextField(
        _("CAN database (DBC)"), blank=True, help_text=_("The DBC of your foxBMS build, to decode its CAN frames.")
    )

    class Meta:
        verbose_name = _("asset type")
        verbose_name_plural = _("asset types")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Chemistry(models.TextChoices):
    LI_ION = "li-ion", "Li-ion"
    LFP = "lifepo4", "LiFePO4"
    NCM = "ncm", "NCM"
    LEAD_ACID = "lead-acid", _("Lead-acid")
    OTHER = "other", _("Other")


class Connector(models.TextChoices):
    GENERIC = "generic", _("Generic JSON")
    THINGSET = "thingset", "ThingSet"
    FOXBMS = "foxbms", "foxBMS"


class Battery(models.Model):
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="batteries")
    type = models.ForeignKey(AssetType, on_delete=models.PROTECT, related_name="batteries")
    name = models.CharField(_("name"), max_length=120)
    serial = models.CharField(_("serial number"), max_length=120, unique=True)
    chemistry = models.CharField(_("chemistry"), max_length=16, choices=Chemistry.choices, default=Chemistry.LFP)
    nominal_voltage = models.FloatField(_("nominal voltage (V)"), null=True, blank=True)
    capacity_ah = models.FloatField(_("capacity (Ah)"), null=True, blank=True)
    capacity_kwh = models.FloatField(_("capacity (kWh)"), null=True, blank=True)
    cell_count = models.PositiveIntegerField(_("cells"), null=True, blank=True)
    connector = models.CharField(_("connector"), max_length=16, choices=Connector.choices, default=Connector.GENERIC)
    silent_after_minutes = models.PositiveIntegerField(
        _("silent after (minutes)"), default=15, help_text=_("Raise an alert when no reading arrives for this long.")
    )
    custom_values = models.JSONField(_("custom values"), default=dict, blank=True)
    # What the last ThingSet message said beyond our metrics: {"firmware": key, "at": ISO time,
    # "unmapped": {item path: value}} (see telemetry.adapters.thingset_items).
    thingset_items = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("battery")
        verbose_name_plural = _("batteries")
        ordering = ["site__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})"


class Meter(models.Model):
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="meters")
    type = models.ForeignKey(AssetType, null=True, blank=True, on_delete=models.PROTECT, related_name="meters")
    name = models.CharField(_("name"), max_length=120)
    device_id = models.CharField(_("device id or MAC"), max_length=64, unique=True)
    model = models.CharField(_("model"), max_length=64, default="Shelly Pro 1PM")
    power_alert_threshold = models.FloatField(
        _("power alert threshold (W)"), null=True, blank=True, help_text=_("Above it the live page shows an alert.")
    )
    silent_after_minutes = models.PositiveIntegerField(
        _("silent after (minutes)"), default=15, help_text=_("Raise an alert when no reading arrives for this long.")
    )
    # The last full status a Shelly Gen2 device reported: partial NotifyStatus frames merge onto it.
    shelly_status = models.JSONField(default=dict, blank=True, editable=False)
    # The device's last NotifyEvent events, newest first: [{"component", "event", "time"}].
    shelly_events = models.JSONField(default=list, blank=True, editable=False)
    custom_values = models.JSONField(_("custom values"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["site__name", "name"]

    def __str__(self) -> str:
        return self.name


# --- Readings ---------------------------------------------------------------------------------------
# One wide table per asset kind, keyed (asset_id, time). `asset_id` carries no foreign-key
# constraint on purpose: a constraint is a trigger per inserted row, the largest cost of a bulk
# COPY after the key index itself; the asset services delete an asset's readings with the asset.


class BatteryReading(models.Model):
    pk = models.CompositePrimaryKey("asset_id", "time")
    asset_id = models.BigIntegerField()
    time = models.DateTimeField()
    voltage = models.FloatField(null=True)
    current = models.FloatField(null=True)
    power = models.FloatField(null=True)
    temperature = models.FloatField(null=True)
    temperature_min = models.FloatField(null=True)
    temperature_max = models.FloatField(null=True)
    soc = models.FloatField(null=True)
    soh = models.FloatField(null=True)
    cell_voltage_min = models.FloatField(null=True)
    cell_voltage_max = models.FloatField(null=True)
    cell_voltages = ArrayField(models.FloatField(), null=True)
    cell_temperatures = ArrayField(models.FloatField(), null=True)
    error_flags = models.BigIntegerField(null=True)
    state = models.CharField(max_length=32, null=True)

    class Meta:
        db_table = "telemetry_battery_reading"

    def __str__(self) -> str:
        return f"{self.asset_id} @ {self.time.isoformat()}"


class MeterReading(models.Model):
    pk = models.CompositePrimaryKey("asset_id", "time")
    asset_id = models.BigIntegerField()
    time = models.DateTimeField()
    power = models.FloatField(null=True)
    voltage = models.FloatField(null=True)
    current = models.FloatField(null=True)
    pf = models.FloatField(null=True)
    frequency = models.FloatField(null=True)
    temperature = models.FloatField(null=True)
    energy_wh = models.FloatField(null=True)
    energy_total_wh = models.FloatField(null=True)
    output = models.BooleanField(null=True)
    errors = models.CharField(max_length=255, null=True)

    class Meta:
        db_table = "telemetry_meter_reading"

    def __str__(self) -> str:
        return f"{self.asset_id} @ {self.time.isoformat()}"


class Resolution(models.TextChoices):
    QUARTER = "q", _("quarter-hour")
    HOUR = "h", _("hour")
    DAY = "d", _("day")


class Rollup(models.Model):
    """min, max, sum, count and last of one metric of one asset over one UTC quarter-hour, one UTC
    hour or one day (the tenant's local day). Kept longer than the raw readings."""

    pk = models.CompositePrimaryKey("kind", "asset_id", "resolution", "metric", "bucket")
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    asset_id = models.BigIntegerField()
    resolution = models.CharField(max_length=1, choices=Resolution.choices)
    metric = models.CharField(max_length=32)
    bucket = models.DateTimeField()
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    count = models.IntegerField()
    last = models.FloatField()
    last_time = models.DateTimeField()

    class Meta:
        db_table = "telemetry_rollup"

    def __str__(self) -> str:
        return f"{self.kind} {self.asset_id} {self.metric} {self.resolution} {self.bucket.isoformat()}"


class DirtyHour(models.Model):
    """An hour of an asset that received readings since its rollups were last computed."""

    pk = models.CompositePrimaryKey("kind", "asset_id", "hour")
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    asset_id = models.BigIntegerField()
    hour = models.DateTimeField()

    class Meta:
        db_table = "telemetry_dirty_hour"

    def __str__(self) -> str:
        return f"{self.kind} {self.asset_id} {self.hour.isoformat()}"


class UncheckedReadings(models.Model):
    """Readings of one asset stored but not yet checked against the threshold rules: the ingest
    transaction widens [since, until] (reading times), so a crash between the commit and the check
    loses nothing. The threshold checker moves the range to [checking_since, checking_until] under a
    lease while it checks, and deletes the row unless new readings came meanwhile; a checker that
    died leaves a lease that expires, and the next one checks its range again."""

    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    asset_id = models.BigIntegerField()
    since = models.DateTimeField(null=True)
    until = models.DateTimeField(null=True)
    checking_since = models.DateTimeField(null=True)
    checking_until = models.DateTimeField(null=True)
    lease_expires = models.DateTimeField(null=True)

    class Meta:
        db_table = "telemetry_unchecked"
        constraints = [models.UniqueConstraint(fields=["kind", "asset_id"], name="telemetry_unchecked_asset")]

    def __str__(self) -> str:
        return f"{self.kind} {self.asset_id} since {self.since}"
