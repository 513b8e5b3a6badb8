"""The customer's charging vocabulary. The stored values are the exact spellings its operators know
(`Erreur_Unknow_S` included); the labels are what the portal shows, in the reader's language."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ErrorType(models.TextChoices):
    EVI = "Erreur_EVI", _("EVI error")
    DOWNSTREAM = "Erreur_DownStream", _("Downstream error")
    UNKNOWN = "Erreur_Unknow_S", _("Unknown (Erreur_Unknow_S)")


class Moment(models.TextChoices):
    INIT = "Init", _("Init")
    LOCK_CONNECTOR = "Lock Connector", _("Lock connector")
    CABLE_CHECK = "CableCheck", _("Cable check")
    CHARGE = "Charge", _("Charge")
    END_OF_CHARGE = "Fin de charge", _("End of charge")
    UNKNOWN = "Unknown", _("Unknown")


class MomentGroup(models.TextChoices):
    """`moment_avancee`."""

    BEFORE_CHARGE = "Avant charge", _("Before charge")
    CHARGE = "Charge", _("Charge")
    END_OF_CHARGE = "Fin de charge", _("End of charge")
    UNKNOWN = "Unknown", _("Unknown")


# The order every table and chart shows moments in.
MOMENT_ORDER = [m.value for m in Moment]
MOMENT_GROUP_ORDER = [g.value for g in MomentGroup]

# What the error-type filter offers, by the short names of the API (`types=EVI,DownStream`).
FILTERABLE_TYPES = {"EVI": ErrorType.EVI.value, "DownStream": ErrorType.DOWNSTREAM.value}
# What the moment filter offers (Unknown is never selectable), and its three shortcuts.
FILTERABLE_MOMENTS = [Moment.INIT, Moment.LOCK_CONNECTOR, Moment.CABLE_CHECK, Moment.CHARGE, Moment.END_OF_CHARGE]
MOMENT_SHORTCUTS = {
    MomentGroup.BEFORE_CHARGE.value: [Moment.INIT.value, Moment.LOCK_CONNECTOR.value, Moment.CABLE_CHECK.value],
    MomentGroup.CHARGE.value: [Moment.CHARGE.value],
    MomentGroup.END_OF_CHARGE.value: [Moment.END_OF_CHARGE.value],
}
