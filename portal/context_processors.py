from django.conf import settings


def platform(request) -> dict:
    from portal.sections import SECTIONS

    tenant = getattr(request, "tenant", None)
    is_tenant = tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME
    return {
        "tenant": tenant if is_tenant else None,
        "is_public_site": not is_tenant,
        "base_domain": settings.BASE_DOMAIN,
        "nav_sections": SECTIONS if is_tenant else [],
    }
