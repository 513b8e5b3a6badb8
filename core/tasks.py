"""Celery plumbing shared by every app: tenant-aware tasks and mail delivery."""

import functools
import logging
from datetime import UTC, datetime

from celery import shared_task
from django.core.mail import send_mail

from core.logging import tenant_var

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
            from django_tenants.utils import tenant_context

            from tenants.models import Client

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


def enqueue_if_reachable(task, *args, **kwargs) -> bool:
    """Queue `task` for a worker, or skip it (False) while the broker (Redis) cannot be reached:
    for work a periodic task picks up anyway (a due delivery, for instance), so that a request
    never waits on the broker nor fails after its transaction committed."""
    from kombu.exceptions import OperationalError as BrokerUnreachable

    from core.redis_client import redis_breaker

    if redis_breaker.is_open and not getattr(task.app.conf, "task_always_eager", False):
        return False
    try:
        # No publish retries: the periodic task is the retry.
        task.apply_async(args, kwargs, retry=False)
    except BrokerUnreachable as error:
        redis_breaker.trip(error)
        logger.warning("broker unreachable: %s left for its periodic task", task.name)
        return False
    return True


def run_for_all_tenants(task, *args, **kwargs) -> int:
    """Queue `task` (made with `tenant_task`) once per active tenant; returns how many were queued."""
    from tenants.selectors import active_schema_names

    schemas = active_schema_names()
    for schema in schemas:
        task.delay(schema, *args, **kwargs)
    return len(schemas)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_email(*, subject: str, body: str, to: list[str]) -> None:
    send_mail(subject, body, None, to)


def queue_email(*, subject: str, body: str, to: list[str]) -> None:
    """Send an email from a worker (with retries), or, while the broker cannot take it, from here:
    an invitation must neither wait on a Redis outage nor be lost to it."""
    if enqueue_if_reachable(send_email, subject=subject, body=body, to=to):
        return
    try:
        send_mail(subject, body, None, to)
    except OSError:
        logger.exception("email %r to %s not sent: the broker and the mail server are both unreachable", subject, to)


@tenant_task()
def push_platform_pulse() -> None:
    from django.db import connection

    from core.realtime import notify_tenant

    notify_tenant(connection.tenant, "platform.pulse", {"server_time": datetime.now(UTC).isoformat()})


@shared_task
def broadcast_platform_pulse() -> int:
    """Lets every open portal page show that the live link to the platform is up."""
    return run_for_all_tenants(push_platform_pulse)
