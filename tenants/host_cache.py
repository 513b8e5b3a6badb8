"""Which tenant a host name belongs to, remembered for a few seconds per process.

Every request starts by resolving its host (`tenants.middleware.TenantMiddleware`): two round trips
to PostgreSQL (the public search path, then the domain and its tenant) before any work. A device
reporting every second, or an integrator posting batches, asks the same question each time. HTTP
requests, websockets and the heartbeat fast path all ask here, threads through `tenant_for_host` and
the event loop through `atenant_for_host`, and share what is remembered.

A change saved to a tenant or a domain clears this process's entries at once (signals below);
other processes see it within `TENANT_CACHE_SECONDS` (5 by default; 0 turns the cache off), which
is how long a suspension may take to reach a server that has just answered for that tenant.
"""

import copy

from channels.db import database_sync_to_async
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.process_cache import ProcessCache
from tenants.models import Client, Domain

_tenants = ProcessCache("TENANT_CACHE_SECONDS")


def _load(hostname: str) -> Client | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).order_by()[:1]
    return domain[0].tenant if domain else None


def tenant_for_host(hostname: str) -> Client | None:
    """The tenant at `hostname` (its public site's included, suspended or not), or None when there
    is none (not remembered, so a new domain answers at once)."""
    tenant = _tenants.get(hostname, lambda: _load(hostname))
    # A copy per request: what one request sets on its tenant object stays with that request.
    return copy.copy(tenant)


async def atenant_for_host(hostname: str) -> Client | None:
    """`tenant_for_host` for code on the event loop, which must never wait for a remembered host's
    refresh (see core.process_cache)."""
    tenant = await _tenants.aget(hostname, lambda: database_sync_to_async(_load)(hostname))
    return copy.copy(tenant)


def forget_all() -> None:
    _tenants.clear()


@receiver([post_save, post_delete], sender="tenants.Client")
@receiver([post_save, post_delete], sender="tenants.Domain")
def _tenant_changed(**_kwargs) -> None:
    forget_all()
