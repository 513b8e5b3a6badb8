from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvisioningConfig(AppConfig):
    """The platform staff's side of client companies: provisioning (schema, domain, first admin),
    suspension and reactivation, in the staff admin and the staff API. Above `accounts`, which the
    first admin and the audit log belong to; `tenants` below both is the tenancy itself."""

    name = "provisioning"
    verbose_name = _("Client companies")
