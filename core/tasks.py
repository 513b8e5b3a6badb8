"""Celery plumbing shared by every app: queueing that survives a broker outage, and mail delivery.
(Tasks that run in a tenant's schema are declared with `tenants.tasks.tenant_task`.)"""

import logging

from celery import shared_task
from django.core.mail import send_mail

from core.redis_client import redis_breaker

logger = logging.getLogger(__name__)


def enqueue_if_reachable(task, *args, **kwargs) -> bool:
    """Queue `task` for a worker, or skip it (False) while the broker (Redis) cannot be reached:
    for work a periodic task picks up anyway (a due delivery, for instance), so that a request
    never waits on the broker nor fails after its transaction committed."""
    from kombu.exceptions import OperationalError as BrokerUnreachable

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


def enqueue_named(name: str, *args, **kwargs) -> bool:
    """`enqueue_if_reachable` for a task named, not imported: an app's services may queue their own
    app's tasks, which call those services, and the modules stay acyclic."""
    from celery import current_app

    if name not in current_app.tasks:
        current_app.loader.import_default_modules()  # what the worker does at start: the apps' tasks
    return enqueue_if_reachable(current_app.tasks[name], *args, **kwargs)


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
