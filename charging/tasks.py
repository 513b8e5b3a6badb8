"""Celery tasks of charging, thin wrappers around the services: one import run, and the hourly
import of every enabled source."""

from charging import services
from tenants.tasks import tenant_task


@tenant_task(time_limit=3600, soft_time_limit=3500)
def import_charging(run_id: int) -> str | None:
    run = services.import_run_queued(run_id=run_id)
    return run.status if run else None


@tenant_task(time_limit=300)
def simulate_demo_charging() -> int:
    """`make run`'s live charging data: the demo sessions that ended since the last import."""
    from charging import demo

    return demo.simulate_now()


@tenant_task(time_limit=600)
def import_charging_sources() -> int:
    """The seed's hourly cache refresh: an incremental import of every enabled source."""
    return services.import_request_scheduled()
