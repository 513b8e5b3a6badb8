"""EV charging, as imported from a customer's KPI database (or its exported files): where the data
comes from, the charge points, the sessions with the fields we derive on import, the equipment
faults, the MAC → vehicle table, each import's record and the pre-aggregates the analyses read.

The customer's column names live only in `charging.sources`; here everything has our names.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from charging.vocabulary import ErrorType, Moment, MomentGroup
from core.crypto import EncryptedTextField

DEFAULT_SESSIONS_TABLE = "kpi_sessions"
DEFAULT_FAULTS_TABLE = "kpi_defauts_log"
DEFAULT_VEHICLES_TABLE = "mac_lookup"
DEFAULT_LINK_TEMPLATE = "https://elto.nidec-asi-online.com/Charge/detail?id={id}"


class SourceKind(models.TextChoices):
    MYSQL = "mysql", _("MySQL / MariaDB database")
    FILES = "files", _("Uploaded files (CSV or XLSX)")


class ChargingSource(models.Model):
    """One place a tenant's charging KPIs come from. The password is stored encrypted and never
    shown again; the state fields say what every charging page shows about the data's freshness."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=SourceKind.choices, default=SourceKind.MYSQL)
    host = models.CharField(_("host"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"), default=3306)
    database = models.CharField(_("database"), max_length=128, blank=True, default="Charges")
    user = models.CharField(_("user"), max_length=128, blank=True)
    password = EncryptedTextField(_("password"), blank=True)
    sessions_table = models.CharField(_("sessions table"), max_length=64, default=DEFAULT_SESSIONS_TABLE)
    faults_table = models.CharField(_("faults table"), max_length=64, default=DEFAULT_FAULTS_TABLE)
    vehicles_table = models.CharField(_("MAC → vehicle table"), max_length=64, default=DEFAULT_VEHICLES_TABLE)
    link_template = models.CharField(
        _("session link template"),
        max_length=500,
        blank=True,
        default=DEFAULT_LINK_TEMPLATE,
        help_text=_("Address of a session in your operator console; {id} is replaced by the session ID."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Paris",
        help_text=_("The time zone of the source's local start and end times."),
    )
    margin_hours = models.PositiveIntegerField(
        _("re-read margin (hours)"),
        default=48,
        help_text=_("Each import re-reads this much before the newest imported session, to catch late updates."),
    )
    enabled = models.BooleanField(_("imported every hour"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The state every charging page shows: "data as of …, source unreachable since …".
    last_success_at = models.DateTimeField(_("last successful import"), null=True, blank=True)
    unreachable_since = models.DateTimeField(_("unreachable since"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("charging data source")
        verbose_name_plural = _("charging data sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def session_link(self, external_id: str) -> str:
        return self.link_template.replace("{id}", external_id) if self.link_template else ""


class ChargePoint(models.Model):
    """A charge point ("PDC") of a site, created the first time a session or a fault names it."""

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="charge_points")
    name = models.CharField(_("charge point"), max_length=64)
    project = models.CharField(_("project"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("charge point")
        verbose_name_plural = _("charge points")
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="charging_one_point_per_site_name")]

    def __str__(self) -> str:
        return self.name


class ChargingSession(models.Model):
    """One charging session. Raw values as the source gave them, and the fields derived from them
    by `charging.derivations` on import (the source's own derived columns are ignored).

    `local_date` and `local_hour` are the start in the source's time zone: the period filter,
    days, months and clock hours of every analysis are the operators' local ones."""

    source = models.ForeignKey(ChargingSource, on_delete=models.CASCADE, related_name="sessions")
    external_id = models.CharField(_("ID"), max_length=64)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.PROTECT, related_name="sessions")
    started_at = models.DateTimeField(_("start"))
    ended_at = models.DateTimeField(_("end"), null=True, blank=True)
    local_date = models.DateField()
    local_hour = models.SmallIntegerField()
    duration_s = models.IntegerField(_("duration (s)"), default=0)
    outcome = models.SmallIntegerField(_("outcome (0 good, 1 error)"), null=True, blank=True)
    is_ok = models.BooleanField(_("OK"))
    error_type = models.CharField(_("error type"), max_length=24, choices=ErrorType.choices)
    moment = models.CharField(_("moment"), max_length=16, choices=Moment.choices)
    moment_group = models.CharField(_("advanced moment"), max_length=16, choices=MomentGroup.choices)
    energy_kwh = models.FloatField(_("energy (kWh)"), null=True, blank=True)
    mean_power_kw = models.FloatField(_("mean power (kW)"), null=True, blank=True)
    max_power_kw = models.FloatField(_("max power (kW)"), null=True, blank=True)
    soc_start = models.FloatField(_("SOC start (%)"), null=True, blank=True)
    soc_end = models.FloatField(_("SOC end (%)"), null=True, blank=True)
    evi_code = models.IntegerField(_("EVI error code"), null=True, blank=True)
    downstream_code = models.IntegerField(_("downstream code"), null=True, blank=True)
    evi_step = models.IntegerField(_("EVI step during error"), null=True, blank=True)
    mac = models.CharField(_("MAC address"), max_length=32, blank=True)
    vehicle = models.CharField(_("vehicle"), max_length=120, blank=True)
    charge_900v = models.BooleanField(_("900 V charge"), null=True, blank=True)
    warning = models.CharField(_("warnings"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("charging session")
        verbose_name_plural = _("charging sessions")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="charging_one_session_per_source_id")
        ]
        indexes = [
            models.Index(fields=["local_date", "site"], name="charging_session_date_site"),
            models.Index(fields=["site", "local_date"], name="charging_session_site_date"),
            models.Index(fields=["started_at"], name="charging_session_started"),
            models.Index(fields=["mac"], name="charging_session_mac", condition=~Q(mac="")),
            models.Index(
                fields=["site", "charge_point", "started_at"], name="charging_session_failed", condition=Q(is_ok=False)
            ),
            # The recurring errors (analysis 10): the failures in the order of their window count,
            # read from the index alone (no visit of the sessions' pages, no sort).
            models.Index(
                fields=["site", "charge_point", "error_type", "moment", "evi_code", "downstream_code", "started_at"],
                include=["local_date", "source", "external_id"],
                name="charging_session_recurring",
                condition=Q(is_ok=False),
            ),
            # The suspicious sessions (analysis 7), newest first: ~1 % of the sessions.
            models.Index(
                fields=["-started_at"], name="charging_session_suspicious", condition=Q(is_ok=True, energy_kwh__lt=1)
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class Fault(models.Model):
    """An equipment fault (`kpi_defauts_log`); no end date means it is still active."""

    source = models.ForeignKey(ChargingSource, on_delete=models.CASCADE, related_name="faults")
    external_id = models.CharField(_("id"), max_length=64)
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("start"))
    ended_at = models.DateTimeField(_("end"), null=True, blank=True)
    label = models.CharField(_("fault"), max_length=255)
    equipment = models.CharField(_("equipment"), max_length=120, blank=True)
    bit_position = models.IntegerField(_("bit position"), null=True, blank=True)
    field_name = models.CharField(_("field"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("fault")
        verbose_name_plural = _("faults")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="charging_one_fault_per_source_id")
        ]
        indexes = [models.Index(fields=["site", "started_at"], name="charging_fault_site_start")]

    def __str__(self) -> str:
        return self.label


class VehicleMac(models.Model):
    """`mac_lookup`: a full MAC or a prefix, and the vehicle it names. `prefix` is the MAC's hex
    digits, upper case, without separators: a session's vehicle is found by its exact MAC, then
    its first 6 digits, then its first 4."""

    source = models.ForeignKey(ChargingSource, on_delete=models.CASCADE, related_name="vehicles")
    prefix = models.CharField(_("MAC or prefix"), max_length=12)
    vehicle = models.CharField(_("vehicle"), max_length=120)

    class Meta:
        verbose_name = _("vehicle MAC")
        verbose_name_plural = _("vehicle MACs")
        constraints = [models.UniqueConstraint(fields=["source", "prefix"], name="charging_one_vehicle_per_prefix")]

    def __str__(self) -> str:
        return f"{self.prefix} → {self.vehicle}"


class ImportTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("hourly schedule")
    PORTAL = "portal", _("portal")
    API = "api", _("API")
    COMMAND = "command", _("command line")
    UPLOAD = "upload", _("file upload")
    DEMO = "demo", _("demo data")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class ImportRun(models.Model):
    """One import, as listed in the portal: who or what started it, what it read, made, changed and
    rejected (with each rejected row's ID and reason), and the error that stopped it, if one did."""

    source = models.ForeignKey(ChargingSource, on_delete=models.CASCADE, related_name="imports")
    trigger = models.CharField(_("trigger"), max_length=16, choices=ImportTrigger.choices)
    full = models.BooleanField(_("full import"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_created = models.PositiveIntegerField(_("rows created"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    rows_expected = models.PositiveIntegerField(_("rows expected"), null=True, blank=True)
    rejects = models.JSONField(_("rejected rows"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("charging import")
        verbose_name_plural = _("charging imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.created_at:%Y-%m-%d %H:%M}"


class ChargingGeneration(models.Model):
    """One row per tenant: bumped by every import that changed something, so that the analyses'
    cached answers (keyed by it) are never served after the data under them changed."""

    value = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.value)


class UploadedTable(models.Model):
    """A CSV or XLSX file uploaded for an import, kept in the database until the worker that runs the
    import has read it (a file in one web process's memory or disk would not reach the worker)."""

    class Table(models.TextChoices):
        SESSIONS = "sessions", _("sessions")
        FAULTS = "faults", _("faults")
        VEHICLES = "vehicles", _("MAC → vehicle")

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="uploads")
    table = models.CharField(max_length=16, choices=Table.choices)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "table"], name="charging_one_upload_per_table")]

    def __str__(self) -> str:
        return self.filename


class ChargingDay(models.Model):
    """The sessions of one site and local day, counted per outcome, error type, moment and (failures
    only) EVI step and codes, with the sums and maxima the analyses average: a pre-aggregate ~20×
    smaller than the sessions (1,000,000 sessions of 25 sites over 2 years: 53,000 rows), kept by
    `charging.rollups.refresh` at the end of every import. Per site, not per charge point: the
    OK sessions of a day are one row, where per charge point they were 3 of every 4 rows of a table
    3.4× as large.

    Its column names are the sessions' (site_id, local_date, is_ok, error_type, moment, …), so the
    shared filters' SQL applies to it as it is; every count is a number of sessions (`sum(sessions)`,
    never `count(*)`). The codes of an OK session are not kept (NULL): no analysis reads them.
    No foreign-key constraints: it is derived data, rebuilt from the sessions, and checking two keys
    per row would double the cost of rebuilding it."""

    source = models.ForeignKey(
        ChargingSource, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    local_date = models.DateField()
    is_ok = models.BooleanField()
    error_type = models.CharField(max_length=24)
    moment = models.CharField(max_length=16)
    moment_group = models.CharField(max_length=16)
    evi_step = models.IntegerField(null=True)
    evi_code = models.IntegerField(null=True)
    downstream_code = models.IntegerField(null=True)
    sessions = models.IntegerField()
    suspicious = models.IntegerField()  # OK and energy < 1 kWh
    energy_sum = models.FloatField(null=True)
    energy_n = models.IntegerField()
    energy_max = models.FloatField(null=True)
    mean_power_sum = models.FloatField(null=True)
    mean_power_n = models.IntegerField()
    mean_power_max = models.FloatField(null=True)
    max_power_sum = models.FloatField(null=True)
    max_power_n = models.IntegerField()
    max_power_max = models.FloatField(null=True)
    soc_start_sum = models.FloatField(null=True)
    soc_start_n = models.IntegerField()
    soc_end_sum = models.FloatField(null=True)
    soc_end_n = models.IntegerField()
    soc_gain_sum = models.FloatField(null=True)  # soc_end − soc_start, where both are known
    soc_gain_n = models.IntegerField()
    duration_sum = models.BigIntegerField()
    charges_900v = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["local_date", "site"], name="charging_day_date_site")]

    def __str__(self) -> str:
        return f"{self.local_date} {self.site_id}"


class ChargingAttempt(models.Model):
    """A group of multiple attempts (analysis 6): 2 or more sessions of one source with one MAC at
    one site in one local clock hour, with its sessions' ids. Kept by `charging.rollups.refresh` with
    the days of `ChargingDay`; the analysis counts these rows and reads the newest groups' sessions by
    their ids, where grouping a whole period's million sessions took seconds."""

    source = models.ForeignKey(
        ChargingSource, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    local_date = models.DateField()
    local_hour = models.SmallIntegerField()
    mac = models.CharField(max_length=32)
    sessions = models.IntegerField()
    session_ids = ArrayField(models.BigIntegerField())

    class Meta:
        indexes = [models.Index(fields=["local_date", "site"], name="charging_attempt_date_site")]

    def __str__(self) -> str:
        return f"{self.local_date} {self.local_hour:02d}h {self.mac}"


class ChargingDayRefresh(models.Model):
    """Where `ChargingDay` and `ChargingAttempt` stand for one source: the oldest transaction that
    could still have been running at their last refresh. A session written since has a newer `xmin`:
    the next refresh finds its day by that, and a day whose session count differs (a session
    deleted) by the counts."""

    source = models.OneToOneField(ChargingSource, on_delete=models.CASCADE, related_name="+")
    xid = models.BigIntegerField()
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.source_id} {self.xid}"
