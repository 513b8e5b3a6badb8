from celery import shared_task

from accounts import services
from tenants.tasks import run_for_all_tenants, tenant_task


@tenant_task()
def publish_revocations() -> int:
    return services.publish_revocations()


@shared_task
def publish_revocations_all_tenants() -> int:
    """Revocations made while Redis was down (or lost with its data) reach it within a period."""
    return run_for_all_tenants(publish_revocations)
