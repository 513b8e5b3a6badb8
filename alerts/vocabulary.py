"""The words of the alert engine that other apps speak too: severities (and their order) and the
statuses of an alert's life. Kept apart from the models so that other apps name them without
reaching into this app's models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")  # condition true, waiting for the rule's "for at least N minutes"
    FIRING = "firing", _("Firing")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


OPEN_STATUSES = (Status.PENDING, Status.FIRING, Status.ACKNOWLEDGED)
