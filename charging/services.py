"""Writes to charging: the data sources (audited: who changed which source; never the password) and
the imports a person, the schedule or a file upload asks for."""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.services import audited_delete, record_saved
from charging import importing
from charging.models import ChargingSource, ImportRun, ImportStatus, ImportTrigger, SourceKind, UploadedTable
from charging.sources.base import ConnectionReport
from charging.sources.files import EXTENSIONS
from charging.sources.mysql import test_connection
from charging.tasks import import_charging

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
UPLOAD_TABLES = [choice.value for choice in UploadedTable.Table]
OPEN_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)


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
        changes.pop("password", None)
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
    schema = connection.schema_name
    transaction.on_commit(lambda: import_charging.delay(schema, run.pk))


def import_request(*, source: ChargingSource, trigger: str, full: bool = False, by=None) -> ImportRun:
    """Queue an import of `source`. One that is already queued or running is returned instead of a
    second one (two imports of one source would only compete for the same rows)."""
    if trigger not in ImportTrigger.values:
        raise ValidationError({"trigger": _("Choose one of: %s.") % ", ".join(ImportTrigger.values)})
    with transaction.atomic():
        ChargingSource.objects.select_for_update().get(pk=source.pk)
        if (pending := _open_run(source)) is not None:
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
