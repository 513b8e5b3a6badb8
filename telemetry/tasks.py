from celery import shared_task
from django.conf import settings

from telemetry import rollups, services
from tenants.tasks import run_for_all_tenants, tenant_task


@tenant_task()
def compute_tenant_rollups() -> int:
    return rollups.compute_rollups()


@shared_task
def compute_rollups() -> int:
    return run_for_all_tenants(compute_tenant_rollups)


@tenant_task()
def apply_tenant_retention() -> int:
    return rollups.apply_retention()


@shared_task
def apply_retention() -> int:
    return run_for_all_tenants(apply_tenant_retention)


@tenant_task()
def detect_tenant_silent_assets() -> int:
    return services.detect_silent_assets()


@shared_task
def detect_silent_assets() -> int:
    return run_for_all_tenants(detect_tenant_silent_assets)


@tenant_task()
def simulate_demo_telemetry() -> int:
    from telemetry import demo

    return demo.simulate_now()


@shared_task
def simulate_demo_telemetry_all() -> int:
    for schema in settings.DEMO_SCHEMAS:
        simulate_demo_telemetry.delay(schema)
    return len(settings.DEMO_SCHEMAS)
