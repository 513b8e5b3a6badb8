from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _on_public_host(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name == settings.PUBLIC_SCHEMA_NAME


def _default_next(request, url: str) -> None:
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        request.GET = request.GET.copy()
        request.GET[REDIRECT_FIELD_NAME] = url


class OwnPagesAdminSite(AdminSite):
    """Signing in or out of an admin site without a `next` page lands on that site's own pages.

    Django's fallbacks, LOGIN_REDIRECT_URL and LOGOUT_REDIRECT_URL, name portal pages, which the
    public host does not have (a sign-in posted without `next` answered 500 there).
    """

    def login(self, request, extra_context=None):
        _default_next(request, reverse("admin:index", current_app=self.name))
        return super().login(request, extra_context)

    def logout(self, request, extra_context=None):
        _default_next(request, reverse("admin:login", current_app=self.name))
        return super().logout(request, extra_context)


class PublicAdminSite(OwnPagesAdminSite):
    """Platform staff: client companies, their domains and limits."""

    site_header = _("Voltwatch platform administration")
    site_title = _("Voltwatch staff")
    index_title = _("Client companies and platform staff")

    def has_permission(self, request) -> bool:
        return _on_public_host(request) and super().has_permission(request)


class TenantAdminSite(OwnPagesAdminSite):
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
