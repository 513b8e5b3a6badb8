from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = _("Fleet")

    def ready(self):
        # Imported here, not at the top: apps.py is loaded before the app registry is ready.
        from alerts.suppression import inhibit_while
        from fleet.rules import OFFLINE_TYPE

        inhibit_while(OFFLINE_TYPE)  # an offline site or device speaks for its other alerts
