from django.db import models
from django.utils.translation import gettext_lazy as _


class Site(models.Model):
    """A place ("lieu") where a client runs assets: batteries, meters, charge points, field devices."""

    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=64, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="batteries")
    type = models.ForeignKey(AssetType, on_delete=models.PROTECT, related_name="batteries")
    name = models.CharField(_("name"), max_length=120)
    serial = models.CharField(_("serial number"), max_length=120, unique=True)
    chemistry = models.CharField(_("chemistry"), max_length=16, choices=Chemistry.choices, default=Chemistry.LFP)
    nominal_voltage = models.FloatField(_("nominal voltage (V)"), null=True, blank=True)
    capacity_ah = models.FloatField(_("capacity (Ah)"), null=True, blank=True)
    capacity_kwh = models.FloatField(_("capacity (kWh)"), null=True, blank=True)
    cell_count = models.PositiveIntegerField(_("cells"), null=True, blank=True)
    connector = models.CharField(_("connector"), max_length=16, choices=Connector.choices, default=Connector.GENERIC)
    custom_values = models.JSONField(_("custom values"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("battery")
        verbose_name_plural = _("batteries")
        ordering = ["site__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})"


class Meter(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="meters")
    type = models.ForeignKey(AssetType, null=True, blank=True, on_delete=models.PROTECT, related_name="meters")
    name = models.CharField(_("name"), max_length=120)
    device_id = models.CharField(_("device id or MAC"), max_length=64, unique=True)
    model = models.CharField(_("model"), max_length=64, default="Shelly Pro 1PM")
    power_alert_threshold = models.FloatField(
        _("power alert threshold (W)"), null=True, blank=True, help_text=_("The seed's ALERT_THRESHOLD.")
    )
    custom_values = models.JSONField(_("custom values"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["site__name", "name"]

    def __str__(self) -> str:
        return self.name
