from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The composition root as an app, for the commands that span every app (`seed_demo`)."""

    name = "config"
    label = "platform"
    verbose_name = "Voltwatch"
