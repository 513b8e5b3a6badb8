from telemetry import demo, rollups, services
from tenants.tasks import tenant_task


@tenant_task(soft_time_limit=300, time_limit=330)
def compute_tenant_rollups() -> int:
    return rollups.compute_rollups()


@tenant_task(soft_time_limit=1800, time_limit=1830)
def apply_tenant_retention() -> int:
    return rollups.apply_retention()


@tenant_task()
def detect_tenant_silent_assets() -> int:
    return services.detect_silent_assets()


@tenant_task()
def simulate_demo_telemetry() -> int:
    return demo.simulate_now()
