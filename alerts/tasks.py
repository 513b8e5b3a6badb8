from alerts import delivery, services
from alerts.delivery import deliver  # noqa: F401  (registered with the worker through this module)
from tenants.tasks import tenant_task


@tenant_task()
def alert_housekeeping() -> None:
    """Due retries, reminders of alerts still firing, pending alerts whose delay has passed."""
    services.promote_due_pending()
    services.send_reminders()
    for delivery_id in delivery.due_delivery_ids():
        delivery.attempt_delivery(delivery_id)
