"""One import of a charging source: the MAC → vehicle table, the faults, then the sessions
(incrementally: from the newest imported start minus the source's margin, to catch late updates),
idempotent on the source's IDs — a changed row updates ours, an unchanged one is not rewritten.

Rows are parsed by `charging.rows` (bad ones counted and reported with their ID and reason), copied
into a temporary table with COPY and merged with one INSERT … ON CONFLICT per batch, each batch in
its own transaction: an import that dies keeps whole batches, and the next one carries on."""

import logging
import secrets
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from alerts import services as alerts
from charging import alerting, rows
from charging.models import (
    ChargePoint,
    ChargingGeneration,
    ChargingSession,
    ChargingSource,
    ImportRun,
    ImportStatus,
    SourceKind,
    VehicleMac,
)
from charging.sources.base import Reader, SourceUnavailable
from charging.sources.files import FilesReader
from charging.sources.mysql import MysqlReader
from sites import selectors as site_selectors
from sites import services as site_services

logger = logging.getLogger(__name__)

MAX_REPORTED_REJECTS = 1000
UNREACHABLE_ALERT = "charging_source_unreachable"

Progress = Callable[[ImportRun], None]


def source_alert_source(source: ChargingSource) -> alerts.Source:
    return alerts.Source(type="charging_source", id=str(source.pk), label=source.name)


def open_reader(run: ImportRun) -> Reader:
    if run.uploads.exists() or run.source.kind == SourceKind.FILES:
        uploads = {upload.table: (upload.filename, bytes(upload.content)) for upload in run.uploads.all()}
        return FilesReader(uploads)
    return MysqlReader(run.source)


class _Places:
    """The sites and charge points of this tenant by name, made the first time a row names them."""

    def __init__(self):
        self.sites = dict(site_selectors.sites().values_list("name", "id"))
        self.points = {(site, name): pk for pk, site, name in ChargePoint.objects.values_list("pk", "site_id", "name")}

    def site(self, name: str) -> int:
        if name not in self.sites:
            site, _created = site_services.site_get_or_create(code=slugify(name)[:64] or "site", name=name)
            self.sites[name] = site.pk
        return self.sites[name]

    def point(self, site_id: int, name: str, project: str = "") -> int:
        key = (site_id, name)
        if key not in self.points:
            point, _created = ChargePoint.objects.get_or_create(
                site_id=site_id, name=name, defaults={"project": project}
            )
            self.points[key] = point.pk
        return self.points[key]


def _merge(table: str, columns: tuple[str, ...], key: tuple[str, ...], values: Iterable[tuple]) -> tuple[int, int]:
    """COPY `values` into a temporary twin of `table` and merge them in: (created, updated)."""
    listed = ", ".join(columns)
    staging = f"_import_{table}"
    changed = [c for c in columns if c not in key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
            f"AS SELECT {listed} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {staging}")  # inside an outer transaction, the last batch is still there
        with cursor.cursor.copy(f"COPY {staging} ({listed}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} AS t ({listed}) SELECT {listed} FROM {staging} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in changed)} "
            f"WHERE ({', '.join(f't.{c}' for c in changed)}) "
            f"IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in changed)}) "
            "RETURNING (xmax = 0)"
        )  # fmt: skip
        flags = [inserted for (inserted,) in cursor.fetchall()]
    created = sum(flags)
    return created, len(flags) - created


class _Import:
    def __init__(self, run: ImportRun, progress: Progress | None):
        self.run = run
        self.source = run.source
        self.zone = zoneinfo.ZoneInfo(self.source.time_zone or "UTC")
        self.progress = progress
        self.places = _Places()

    def reject(self, table: str, row: dict, reason: str) -> None:
        self.run.rows_rejected += 1
        if len(self.run.rejects) < MAX_REPORTED_REJECTS:
            identifier = rows.text(row.get("external_id") if table != "vehicles" else row.get("mac"))
            self.run.rejects.append(rows.Reject(table, identifier, reason).as_json())

    def counted(self, created: int, updated: int) -> None:
        self.run.rows_created += created
        self.run.rows_updated += updated

    def vehicles(self, reader: Reader) -> None:
        for batch in reader.vehicles():
            self.run.rows_read += len(batch)
            parsed = {}
            for row in batch:
                try:
                    prefix, name = rows.vehicle(row)
                except rows.Refused as refused:
                    self.reject("vehicles", row, str(refused))
                    continue
                parsed[prefix] = (self.source.pk, prefix, name)
            with transaction.atomic():
                self.counted(*_merge("charging_vehiclemac", ("source_id", "prefix", "vehicle"),
                                     ("source_id", "prefix"), parsed.values()))  # fmt: skip

    def faults(self, reader: Reader) -> None:
        columns = ("source_id", "site_id", *rows.FAULT_COLUMNS)
        for batch in reader.faults():
            self.run.rows_read += len(batch)
            parsed = {}
            with transaction.atomic():
                for row in batch:
                    try:
                        site, values = rows.fault(row, zone=self.zone)
                    except rows.Refused as refused:
                        self.reject("faults", row, str(refused))
                        continue
                    parsed[values[0]] = (self.source.pk, self.places.site(site), *values)
                self.counted(*_merge("charging_fault", columns, ("source_id", "external_id"), parsed.values()))

    def since(self):
        """The local start from which sessions are read again (None: all of them)."""
        if self.run.full:
            return None
        newest = ChargingSession.objects.filter(source=self.source).aggregate(newest=Max("started_at"))["newest"]
        if newest is None:
            return None
        margin = timedelta(hours=self.source.margin_hours)
        return (newest - margin).astimezone(self.zone).replace(tzinfo=None)

    def sessions(self, reader: Reader) -> None:
        vehicles = dict(VehicleMac.objects.filter(source=self.source).values_list("prefix", "vehicle"))
        columns = ("source_id", "site_id", "charge_point_id", *rows.SESSION_COLUMNS)
        since = self.since()
        self.run.rows_expected = reader.count_sessions(since)
        self.report()
        for batch in reader.sessions(since):
            self.run.rows_read += len(batch)
            parsed = {}
            with transaction.atomic():
                for row in batch:
                    try:
                        site, project, point, values = rows.session(row, zone=self.zone, vehicles=vehicles)
                    except rows.Refused as refused:
                        self.reject("sessions", row, str(refused))
                        continue
                    site_id = self.places.site(site)
                    # The same ID twice in a batch: the later row wins, as a second import would make it.
                    parsed[values[0]] = (self.source.pk, site_id, self.places.point(site_id, point, project), *values)
                created, updated = _merge("charging_chargingsession", columns, ("source_id", "external_id"),
                                          parsed.values())  # fmt: skip
                self.counted(created, updated)
            self.report()

    def report(self) -> None:
        self.run.save(update_fields=["rows_read", "rows_created", "rows_updated", "rows_rejected", "rows_expected",
                                     "rejects"])  # fmt: skip
        if self.progress:
            self.progress(self.run)


def run_import(*, run: ImportRun, progress: Progress | None = None) -> ImportRun:
    """Run `run` to its end: succeeded with its counts, or failed with the exact reason (the data
    imported before stays; the source shows it is unreachable and one alert says so)."""
    source = run.source
    run.status, run.started_at = ImportStatus.RUNNING, timezone.now()
    run.rows_read = run.rows_created = run.rows_updated = run.rows_rejected = 0
    run.rejects, run.error = [], ""
    run.save()
    job = _Import(run, progress)
    try:
        reader = open_reader(run)
        try:
            job.vehicles(reader)
            job.faults(reader)
            job.sessions(reader)
        finally:
            reader.close()
    except SourceUnavailable as error:
        return _failed(run, str(error), progress)
    except zoneinfo.ZoneInfoNotFoundError:
        return _failed(run, _("Unknown time zone “%(zone)s”.") % {"zone": source.time_zone}, progress)
    run.status, run.finished_at = ImportStatus.SUCCEEDED, timezone.now()
    run.uploads.all().delete()  # read: the stored files have done their job
    run.save()
    # The pre-aggregates the analyses read, for the days whose sessions changed (found by
    # charging.rollups itself): before the cached answers are let go, so none is computed from stale days.
    from charging import rollups  # here, not at the top: the whole change to the import is this call

    rollups.refresh(source)
    if run.rows_created or run.rows_updated:
        generation_bump()
    ChargingSource.objects.filter(pk=source.pk).update(last_success_at=run.finished_at, unreachable_since=None,
                                                       last_error="")  # fmt: skip
    source.refresh_from_db()
    alerts.resolve_condition(source=source_alert_source(source), alert_type=UNREACHABLE_ALERT)
    alerting.raise_charging_alerts(source=source)
    if progress:
        progress(run)
    return run


def _failed(run: ImportRun, reason: str, progress: Progress | None) -> ImportRun:
    source = run.source
    run.status, run.finished_at, run.error = ImportStatus.FAILED, timezone.now(), reason
    run.save()
    ChargingSource.objects.filter(pk=source.pk, unreachable_since__isnull=True).update(
        unreachable_since=run.finished_at
    )
    ChargingSource.objects.filter(pk=source.pk).update(last_error=reason)
    source.refresh_from_db()
    last = timezone.localtime(source.last_success_at).strftime("%Y-%m-%d %H:%M") if source.last_success_at else "—"
    alerts.raise_alert(
        source=source_alert_source(source),
        alert_type=UNREACHABLE_ALERT,
        severity="warning",
        message=_("Charging source %(name)s cannot be read: %(reason)s. The data imported until %(when)s stays.")
        % {"name": source.name, "reason": reason, "when": last},
    )
    logger.warning("charging import %s of %s failed: %s", run.pk, source.name, reason)
    if progress:
        progress(run)
    return run


def generation_bump() -> None:
    """Every cached analysis of the tenant is stale from now on. A random value, not a counter: a
    database restored from a backup (or a rolled-back transaction) must never meet its old keys."""
    value = secrets.randbits(62)
    ChargingGeneration.objects.update_or_create(pk=1, defaults={"value": value, "changed_at": timezone.now()})
