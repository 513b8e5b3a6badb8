"""Celery tasks of charging: one import run, and the hourly import of every enabled source."""

import time

from django.db import connection

from charging import importing
from charging.models import ChargingSource, ImportRun, ImportStatus, ImportTrigger
from core.realtime import notify_tenant
from tenants.tasks import tenant_task

PROGRESS_EVERY_S = 0.3


def run_payload(run: ImportRun) -> dict:
    """What the portal's progress bar and the API's job status show of a run."""
    return {
        "id": run.pk,
        "source": run.source_id,
        "status": run.status,
        "rows_read": run.rows_read,
        "rows_expected": run.rows_expected,
        "rows_created": run.rows_created,
        "rows_updated": run.rows_updated,
        "rows_rejected": run.rows_rejected,
        "error": run.error,
    }


def _publisher():
    last = [0.0]

    def publish(run: ImportRun) -> None:
        now = time.monotonic()
        if run.status == ImportStatus.RUNNING and now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        notify_tenant(connection.tenant, "charging.import", run_payload(run))

    return publish


@tenant_task(time_limit=3600, soft_time_limit=3500)
def import_charging(run_id: int) -> str | None:
    run = ImportRun.objects.select_related("source").filter(pk=run_id, status=ImportStatus.QUEUED).first()
    if run is None:
        return None  # already run (a redelivered task) or deleted with its source
    return importing.run_import(run=run, progress=_publisher()).status


@tenant_task(time_limit=600)
def import_charging_sources() -> int:
    """The seed's hourly cache refresh: an incremental import of every enabled source."""
    from charging.services import import_request  # services queue the task above

    queued = 0
    for source in ChargingSource.objects.filter(enabled=True):
        import_request(source=source, trigger=ImportTrigger.SCHEDULE)
        queued += 1
    return queued
