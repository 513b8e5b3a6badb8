"""One import of a charging source: the MAC → vehicle table, the faults, then the sessions
(incrementally: from the newest imported start minus the source's margin, to catch late updates),
idempotent on the source's IDs — a changed row updates ours, an unchanged one is not rewritten.

Sessions come from the readers as typed tuples and are derived, checked and merged in PostgreSQL,
set-based, a batch at a time (`charging.session_merge`); faults and vehicles, a few hundred rows, are
parsed by `charging.rows`. Bad rows are counted and reported with their ID and reason and never stop
the others. Each batch has its own transaction: an import that dies keeps whole batches, and the
next one carries on."""

import contextlib
import logging
import queue
import secrets
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from alerts import services as alerts
from charging import alerting, rollups, rows, session_merge
from charging.models import (
    ChargePoint,
    ChargingGeneration,
    ChargingSession,
    ChargingSource,
    ImportRun,
    ImportStatus,
    ImportTrigger,
    SourceKind,
)
from charging.sources.base import Reader, SessionBatch, SourceUnavailable
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


def _ahead(batches: Iterator[SessionBatch]) -> Iterator[SessionBatch]:
    """`batches`, the next one read from the source in a thread while PostgreSQL merges this one (the
    source's driver and ours both let the other thread run while they wait). An error of the source
    comes out here, in the import's thread; leaving early stops the reading."""
    slot: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def read() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slot.put(batch, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slot.put(done)
        except BaseException as error:  # handed over to the import's thread, raised there
            slot.put(error)

    reader = threading.Thread(target=read, name="charging-import-reader", daemon=True)
    reader.start()
    try:
        while (item := slot.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            slot.get_nowait()  # a reader blocked on a full slot sees `stop` then
        reader.join()
        if hasattr(batches, "close"):
            batches.close()


def _latest(batch: list[tuple]) -> list[tuple]:
    """The same ID twice in a batch: the later row wins, as a second import would make it (rows
    without an ID all stay, each to be refused)."""
    latest, unnamed = {}, []
    for row in batch:
        identifier = row[0]
        if identifier and (key := identifier.strip()):
            latest[key] = row
        else:
            unnamed.append(row)
    return [*latest.values(), *unnamed] if len(latest) + len(unnamed) < len(batch) or unnamed else batch


class _Import:
    def __init__(self, run: ImportRun, progress: Progress | None):
        self.run = run
        self.source = run.source
        self.zone = zoneinfo.ZoneInfo(self.source.time_zone or "UTC")
        self.progress = progress
        self.places = _Places()

    def reject(self, table: str, row: dict, reason: str) -> None:
        self.reject_id(table, rows.text(row.get("external_id") if table != "vehicles" else row.get("mac")), reason)

    def reject_id(self, table: str, identifier: str, reason: str) -> None:
        self.run.rows_rejected += 1
        if len(self.run.rejects) < MAX_REPORTED_REJECTS:
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
        """The local start from which sessions are read again (None: all of them). Incremental only
        after a read that went to its end: one that died part way may have stored newer sessions
        than older ones it never reached (the source's order is not ours), so the next read is whole."""
        if self.run.full or self._last_read_stopped_part_way():
            return None
        newest = ChargingSession.objects.filter(source=self.source).aggregate(newest=Max("started_at"))["newest"]
        if newest is None:
            return None
        margin = timedelta(hours=self.source.margin_hours)
        return (newest - margin).astimezone(self.zone).replace(tzinfo=None)

    def _last_read_stopped_part_way(self) -> bool:
        previous = (
            ImportRun.objects.filter(source=self.source, finished_at__isnull=False)
            .exclude(pk=self.run.pk)
            .exclude(trigger=ImportTrigger.UPLOAD)  # files say nothing of what was read from the database
            .order_by("-finished_at")
            .first()
        )
        return (
            previous is not None
            and previous.status == ImportStatus.FAILED
            and bool(previous.rows_created or previous.rows_updated)
        )

    def sessions(self, reader: Reader) -> None:
        since = self.since()
        self.run.rows_expected = reader.count_sessions(since)
        self.report()
        zone = self.source.time_zone or "UTC"
        with connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    cursor.execute("SELECT now() AT TIME ZONE %s", [zone])
            except DatabaseError as error:  # a zone Python knows and PostgreSQL does not
                raise zoneinfo.ZoneInfoNotFoundError(zone) from error
        for batch in _ahead(reader.sessions(since)):
            self.run.rows_read += batch.read
            for identifier, reason in batch.refused:
                self.reject_id("sessions", identifier, reason)
            with transaction.atomic(), connection.cursor() as cursor:
                created, updated, refused = session_merge.merge(
                    cursor.cursor, _latest(batch.rows), source_id=self.source.pk, zone=zone, place=self.place
                )
            for identifier, reason in refused:
                self.reject_id("sessions", identifier, reason)
            self.counted(created, updated)
            self.report()

    def place(self, site: str, point: str, project: str) -> tuple[int, int]:
        site_id = self.places.site(site)
        return site_id, self.places.point(site_id, point, project)

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
    with transaction.atomic(), connection.cursor() as cursor:
        session_merge.reserve_temp_buffers(cursor.cursor)  # before any temporary table of the import
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
