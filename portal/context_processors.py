"""What every page's layout needs: the tenant of the host (none on the public site) and its sections."""

from django.conf import settings

from core.navigation import SECTIONS


def platform(request) -> dict:
    tenant = getattr(request, "tenant", None)
    is_tenant = tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME
    return {
        "tenant": tenant if is_tenant else None,
        "is_public_site": not is_tenant,
        "base_domain": settings.BASE_DOMAIN,
        "nav_sections": SECTIONS if is_tenant else [],
    }
