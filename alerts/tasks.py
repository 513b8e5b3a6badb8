from alerts import delivery, fanout, services
from alerts.delivery import deliver  # noqa: F401  (registered with the worker through this module)
from tenants.tasks import tenant_task


@tenant_task(soft_time_limit=300, time_limit=330)
def alert_housekeeping() -> None:
    """Due retries, reminders of alerts still firing, pending alerts whose delay has passed."""
    services.promote_due_pending()
    fanout.send_reminders()
    delivery.attempt_due_deliveries()
