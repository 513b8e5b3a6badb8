from django.conf import settings
from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _


def _on_public_host(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name == settings.PUBLIC_SCHEMA_NAME


class PublicAdminSite(AdminSite):
    """Platform staff: client companies, their domains and limits."""

    site_header = _("Voltwatch platform administration")
    site_title = _("Voltwatch staff")
    index_title = _("Client companies and platform staff")

    def has_permission(self, request) -> bool:
        return _on_public_host(request) and super().has_permission(request)


class TenantAdminSite(AdminSite):
    """A client company's own configuration, for its admins."""

    site_header = _("Voltwatch — configuration")
    site_title = _("Voltwatch configuration")
    index_title = _("Configuration of your company")

    def has_permission(self, request) -> bool:
        user = request.user
        return (
            not _on_public_host(request)
            and user.is_active
            and getattr(user, "role", None) == "admin"
            and super().has_permission(request)
        )


public_admin_site = PublicAdminSite(name="public_admin")
tenant_admin_site = TenantAdminSite(name="tenant_admin")
