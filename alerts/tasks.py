from celery import shared_task

from alerts import delivery, services
from alerts.delivery import deliver  # noqa: F401  (registered with the worker through this module)
from tenants.tasks import run_for_all_tenants, tenant_task


@tenant_task()
def alert_housekeeping() -> None:
    """Due retries, reminders of alerts still firing, pending alerts whose delay has passed."""
    services.promote_due_pending()
    services.send_reminders()
    for delivery_id in delivery.due_delivery_ids():
        delivery.attempt_delivery(delivery_id)


@shared_task
def alert_housekeeping_all_tenants() -> int:
    return run_for_all_tenants(alert_housekeeping)
