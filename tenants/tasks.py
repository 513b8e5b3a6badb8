"""Celery tasks that run in one tenant's schema, and the periodic tasks that fan out to every tenant."""

import functools
import logging
from datetime import UTC, datetime

from celery import shared_task
from django.db import connection
from django_tenants.utils import tenant_context

from core.logging import tenant_var
from core.realtime import notify_tenant
from tenants.models import Client
from tenants.selectors import active_schema_names

logger = logging.getLogger(__name__)


def tenant_task(*task_args, **task_kwargs):
    """Declare a Celery task that runs inside one tenant's schema.

    The task is called with the tenant's schema name first: `my_task.delay("acme", ...)`. A
    suspended or deleted tenant's tasks are skipped.
    """

    def decorator(func):
        @shared_task(*task_args, name=task_kwargs.pop("name", f"{func.__module__}.{func.__name__}"), **task_kwargs)
        @functools.wraps(func)
        def run(schema_name: str, *args, **kwargs):
            tenant = Client.objects.filter(schema_name=schema_name).first()
            if tenant is None or not tenant.is_active:
                logger.info("skipping %s for inactive or unknown tenant %s", func.__name__, schema_name)
                return None
            token = tenant_var.set(schema_name)
            try:
                with tenant_context(tenant):
                    return func(*args, **kwargs)
            finally:
                tenant_var.reset(token)

        return run

    return decorator


def run_for_all_tenants(task, *args, **kwargs) -> int:
    """Queue `task` (made with `tenant_task`) once per active tenant; returns how many were queued."""
    schemas = active_schema_names()
    for schema in schemas:
        task.delay(schema, *args, **kwargs)
    return len(schemas)


@tenant_task()
def push_platform_pulse() -> None:
    notify_tenant(connection.tenant, "platform.pulse", {"server_time": datetime.now(UTC).isoformat()})


@shared_task
def broadcast_platform_pulse() -> int:
    """Lets every open portal page show that the live link to the platform is up."""
    return run_for_all_tenants(push_platform_pulse)
