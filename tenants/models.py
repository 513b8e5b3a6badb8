from zoneinfo import available_timezones

from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from django_tenants.clone import CloneSchema
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from tenants.cloning import clone_template

TIMEZONE_CHOICES = sorted((tz, tz) for tz in available_timezones())


class Client(TenantMixin):
    """A client company: one PostgreSQL schema holds all of its data."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=120)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    suspended_reason = models.CharField(_("reason for suspension"), max_length=255, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Paris")
    language = models.CharField(
        _("default language"), max_length=8, choices=[("en", "English"), ("fr", "Français")], default="fr"
    )
    raw_retention_days = models.PositiveIntegerField(
        _("raw telemetry kept (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Readings older than this are deleted; hourly and daily rollups are kept. Empty: platform default."
        ),
    )
    max_users = models.PositiveIntegerField(
        _("user limit"), null=True, blank=True, help_text=_("Empty means unlimited.")
    )
    api_rate = models.CharField(
        _("API rate per key"),
        max_length=32,
        blank=True,
        help_text=_('Overrides the platform default, e.g. "600/min" or "20/s". Empty: default.'),
    )
    created_on = models.DateTimeField(_("created on"), auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        verbose_name = _("client company")
        verbose_name_plural = _("client companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        # The template schema carries its django_migrations rows along with its tables, so a copy
        # is already fully migrated: django-tenants' extra "fake" migrate pass would only cost time.
        base_schema = self.get_base_schema()
        if sync_schema and base_schema and schema_exists(base_schema):
            if check_if_exists and schema_exists(self.schema_name):
                return False
            connection.set_schema_to_public()
            if not clone_template(base_schema, self.schema_name):
                CloneSchema().clone_schema(base_schema, self.schema_name, "DATA")
            connection.set_schema_to_public()
            return True
        return super().create_schema(check_if_exists, sync_schema, verbosity)

    @property
    def slug(self) -> str:
        return self.schema_name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain
