"""Writes to charging: the data sources (audited: who changed which source; never the password) and
the imports a person, the schedule or a file upload asks for."""

import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audited_delete, record_saved
from charging import importing, selectors
from charging.models import ChargingSource, ImportRun, ImportStatus, ImportTrigger, SourceKind, UploadedTable
from charging.sources.base import ConnectionReport
from charging.sources.files import EXTENSIONS
from charging.sources.mysql import test_connection
from core.realtime import notify_tenant
from core.tasks import enqueue_named

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
UPLOAD_TABLES = [choice.value for choice in UploadedTable.Table]
OPEN_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)
# A run still queued after this long was lost on the way to a worker (the broker was down): queue it again.
REQUEUE_AFTER = timedelta(minutes=10)
PROGRESS_EVERY_S = 0.3
IMPORT_TASK = "charging.tasks.import_charging"


def _saved(source: ChargingSource, before: ChargingSource | None, by, ip_address: str | None) -> ChargingSource:
    source.full_clean()
    source.save()
    record_saved(entity="charging_source", instance=source, before=before, by=by, ip_address=ip_address)
    return source


def source_create(*, by, ip_address: str | None = None, **fields) -> ChargingSource:
    return _saved(ChargingSource(**fields), None, by, ip_address)


def source_update(*, source: ChargingSource, by, ip_address: str | None = None, **changes) -> ChargingSource:
    """An empty password keeps the stored one (the form never shows it back)."""
    before = ChargingSource.objects.get(pk=source.pk)
    if not changes.get("password"):
        changes["password"] = before.password  # a form may have blanked it on the instance already
    for name, value in changes.items():
        setattr(source, name, value)
    return _saved(source, before, by, ip_address)


def source_delete(*, source: ChargingSource, by, ip_address: str | None = None) -> None:
    """The source goes with the sessions, faults and imports it brought."""
    audited_delete(entity="charging_source", instance=source, by=by, ip_address=ip_address)


def source_test_connection(*, source: ChargingSource) -> ConnectionReport:
    if source.kind != SourceKind.MYSQL:
        return ConnectionReport(ok=False, reason=_("A file source has no connection to test: upload its files."))
    return test_connection(source)


def _open_run(source: ChargingSource) -> ImportRun | None:
    return ImportRun.objects.filter(source=source, status__in=OPEN_STATUSES).order_by("-created_at").first()


def _queue(run: ImportRun) -> None:
    """After commit, hand the run to a worker; while the broker is down it stays queued in the
    database and the next scheduled round queues it again."""
    schema = connection.schema_name
    transaction.on_commit(lambda: enqueue_named(IMPORT_TASK, schema, run.pk))


def import_request(*, source: ChargingSource, trigger: str, full: bool = False, by=None) -> ImportRun:
    """Queue an import of `source`. One that is already queued or running is returned instead of a
    second one (two imports of one source would only compete for the same rows)."""
    if trigger not in ImportTrigger.values:
        raise ValidationError({"trigger": _("Choose one of: %s.") % ", ".join(ImportTrigger.values)})
    with transaction.atomic():
        ChargingSource.objects.select_for_update().get(pk=source.pk)
        if (pending := _open_run(source)) is not None:
            if pending.status == ImportStatus.QUEUED and pending.created_at < timezone.now() - REQUEUE_AFTER:
                _queue(pending)
            return pending
        run = ImportRun.objects.create(source=source, trigger=trigger, full=full, requested_by=_person(by))
        _queue(run)
    return run


def import_upload(*, source: ChargingSource, files: dict, by) -> ImportRun:
    """Queue an import of uploaded CSV or XLSX files (`sessions`, `faults`, `vehicles`: one each,
    any of them); the files wait in the database for the worker that reads them."""
    errors = {}
    for table, upload in files.items():
        if table not in UPLOAD_TABLES:
            errors[table] = _("Unknown table: choose among %s.") % ", ".join(UPLOAD_TABLES)
        elif not upload.name.lower().endswith(EXTENSIONS):
            errors[table] = _("%(file)s: only .csv and .xlsx files can be imported.") % {"file": upload.name}
        elif upload.size > MAX_UPLOAD_BYTES:
            errors[table] = _("%(file)s is larger than %(max)s MB.") % {
                "file": upload.name,
                "max": MAX_UPLOAD_BYTES // 2**20,
            }
    if not files:
        errors["sessions"] = _("Choose at least one file (sessions, faults or vehicles).")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        run = ImportRun.objects.create(source=source, trigger=ImportTrigger.UPLOAD, requested_by=_person(by))
        for table, upload in files.items():
            UploadedTable.objects.create(run=run, table=table, filename=upload.name[:255], content=upload.read())
        _queue(run)
    return run


def import_request_scheduled() -> int:
    """Queue an incremental import of every enabled source (the hourly schedule): how many."""
    sources = list(ChargingSource.objects.filter(enabled=True))
    for source in sources:
        import_request(source=source, trigger=ImportTrigger.SCHEDULE)
    return len(sources)


def _publisher():
    """Progress of a run to the tenant's open pages (the progress bar), at most every 0.3 s."""
    last = [0.0]

    def publish(run: ImportRun) -> None:
        now = time.monotonic()
        if run.status == ImportStatus.RUNNING and now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        notify_tenant(connection.tenant, "charging.import", selectors.run_payload(run))

    return publish


def import_run_queued(*, run_id: int) -> ImportRun | None:
    """Run a queued import (the worker's side); None when it already ran (a redelivered task) or
    went with its source."""
    with transaction.atomic():
        run = (
            ImportRun.objects.select_for_update(skip_locked=True)
            .select_related("source")
            .filter(pk=run_id, status=ImportStatus.QUEUED)
            .first()
        )
        if run is None:
            return None
        run.status = ImportStatus.RUNNING
        run.save(update_fields=["status"])
    return importing.run_import(run=run, progress=_publisher())


def charging_import_now(
    *, source: ChargingSource, trigger: str, full: bool = False, by=None, progress=None, files=None
) -> ImportRun:
    """Import now, in this process (the command line, the demo). `files`: {table: (name, bytes)}."""
    run = ImportRun.objects.create(source=source, trigger=trigger, full=full, requested_by=_person(by))
    for table, (filename, content) in (files or {}).items():
        UploadedTable.objects.create(run=run, table=table, filename=filename, content=content)
    return importing.run_import(run=run, progress=progress)


def _person(by):
    return by if getattr(by, "pk", None) and getattr(by, "_meta", None) and by._meta.model_name == "user" else None
