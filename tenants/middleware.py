"""The tenant of each request, chosen by its host (django-tenants), and what a suspended tenant sees."""

from django.conf import settings
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware

from core.db import UNAVAILABLE
from core.logging import tenant_var
from core.views import database_unavailable, error_response
from tenants.host_cache import tenant_for_host


class TenantMiddleware(TenantMainMiddleware):
    """Chooses the tenant by host; an unknown host gets a plain 404 page (JSON under /api/).
    Hosts are resolved through a short per-process cache (`tenants.host_cache`)."""

    def get_tenant(self, domain_model, hostname):
        tenant = tenant_for_host(hostname)
        if tenant is None:
            raise domain_model.DoesNotExist(hostname)  # what django-tenants answers with no_tenant_found
        return tenant

    def process_request(self, request):
        try:
            response = super().process_request(request)
        except UNAVAILABLE:  # the first database query of a request: say so even under DEBUG
            return database_unavailable(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            tenant_var.set(tenant.schema_name)
        return response

    def no_tenant_found(self, request, hostname):
        return error_response(request, 404, "not_found", _("There is no Voltwatch portal at this address."))


class TenantSuspendedMiddleware:
    """A suspended tenant's portal shows why; its API answers 403 with the reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME and not tenant.is_active:
            detail = _("The account of %(name)s is suspended. Contact Voltwatch support to reactivate it.") % {
                "name": tenant.name
            }
            if tenant.suspended_reason:
                detail += " " + _("Reason: %(reason)s") % {"reason": tenant.suspended_reason}
            return error_response(request, 403, "tenant_suspended", detail, template="errors/suspended.html")
        return self.get_response(request)
