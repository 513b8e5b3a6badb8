from django.db import models
from django.utils.translation import gettext_lazy as _


class Site(models.Model):
    """A place ("lieu") where a client runs assets: batteries, meters, charge points, field devices.

    The verticals point at it ("sites.Site"); alerts know a site only by the code and name their
    sources carry, copied onto each alert."""

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
