from django.conf import settings
from django.db import connection

from tenants.models import Client, Domain


def current_tenant() -> Client | None:
    """The tenant whose schema the current connection uses, or None on the public schema."""
    schema = connection.schema_name
    if schema == settings.PUBLIC_SCHEMA_NAME:
        return None
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Client):
        return tenant
    # schema_context() sets a stand-in without the tenant's fields: load the real one.
    return Client.objects.filter(schema_name=schema).first()


def primary_domain(client: Client) -> str:
    domain = Domain.objects.filter(tenant=client, is_primary=True).values_list("domain", flat=True).first()
    return domain or f"{client.schema_name}.{settings.BASE_DOMAIN}"


def host_url(host: str, path: str = "") -> str:
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{host}{port}{path}"


def tenant_url(client: Client, path: str = "") -> str:
    return host_url(primary_domain(client), path)


def public_url(path: str = "") -> str:
    return host_url(settings.BASE_DOMAIN, path)


def active_schema_names() -> list[str]:
    return list(
        Client.objects.filter(status=Client.Status.ACTIVE)
        .exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .values_list("schema_name", flat=True)
    )
