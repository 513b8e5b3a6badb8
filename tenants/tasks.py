"""Celery tasks that run in one tenant's schema, and the periodic tasks that fan out to every tenant."""

import functools
import logging
from datetime import UTC, datetime

from celery import current_app, shared_task
from django.db import connection
from django.utils.module_loading import import_string
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
    """Lets every open portal page of the tenant show that the live link to the platform is up."""
    notify_tenant(connection.tenant, "platform.pulse", {"server_time": datetime.now(UTC).isoformat()})


@shared_task(name="tenants.tasks.for_each_tenant")
def for_each_tenant(task_name: str, schemas: list[str] | None = None) -> int:
    """Celery beat's one fan-out: queue the tenant task `task_name` once per active tenant (or once
    per schema of `schemas`, e.g. the demo tenants). Returns how many were queued."""
    # By name from the registry, or from its module in a process that has not imported it yet.
    task = current_app.tasks[task_name] if task_name in current_app.tasks else import_string(task_name)
    if schemas is None:
        return run_for_all_tenants(task)
    for schema in schemas:
        task.delay(schema)
    return len(schemas)
