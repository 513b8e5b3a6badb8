"""Which tenant a host name belongs to, remembered for a few seconds per process.

Every request starts by resolving its host (`core.middleware.TenantMiddleware`): two round trips to
PostgreSQL (the public search path, then the domain and its tenant) before any work. A device
reporting every second, or an integrator posting batches, asks the same question each time.

A change saved to a tenant or a domain clears this process's entries at once (signals below);
other processes see it within `TENANT_CACHE_SECONDS` (5 by default; 0 turns the cache off), which
is how long a suspension may take to reach a server that has just answered for that tenant.
"""

import copy

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.process_cache import ProcessCache

_tenants = ProcessCache("TENANT_CACHE_SECONDS")


def tenant_for_host(hostname: str, load) -> object:
    """The tenant of `hostname`: remembered, or `load(hostname)` (which raises when there is none;
    an unknown host is not remembered, so a new domain answers at once)."""
    tenant = _tenants.get(hostname, lambda: load(hostname))
    # A copy per request: what one request sets on its tenant object stays with that request.
    return copy.copy(tenant)


def forget_all() -> None:
    _tenants.clear()


@receiver([post_save, post_delete], sender="tenants.Client")
@receiver([post_save, post_delete], sender="tenants.Domain")
def _tenant_changed(**_kwargs) -> None:
    forget_all()
