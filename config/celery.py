import contextlib
import logging
import os
import time

from celery import Celery, Task, signals
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class PoolKeepingWorkerFixup(DjangoWorkerFixup):
    """Celery's Django fixup, except that a prefork child keeps its connection pool for its life.

    Celery closes the pool itself before and after every task in a prefork child. The pool is
    shared by the child's threads, and one of them (the after-commit threshold checks, which ran in
    a thread then) met "the pool has already been closed and cannot be reused", so those checks
    were lost; any thread of a child that touches the database would. Here the parent still closes
    its pool before forking (Celery's own behaviour at start), each child drops the inherited
    connections as Celery does and opens a pool of its own on first use, and around a task the
    task's connection only goes back to that pool.
    """

    pools_kept = False

    def on_worker_process_init(self, **kwargs) -> None:
        super().on_worker_process_init(**kwargs)
        self.pools_kept = True

    def _close_database(self) -> None:
        if not self.pools_kept:
            return super()._close_database()
        for conn in self._db.connections.all(initialized_only=True):
            with contextlib.suppress(*self.interface_errors):
                conn.close()  # with a pool: the connection returns to it


class PoolKeepingDjangoFixup(DjangoFixup):
    @property
    def worker_fixup(self) -> DjangoWorkerFixup:
        if self._worker_fixup is None:
            self._worker_fixup = PoolKeepingWorkerFixup(self.app)
        return self._worker_fixup

    @worker_fixup.setter
    def worker_fixup(self, value: DjangoWorkerFixup) -> None:
        self._worker_fixup = value


def django_fixup(app: Celery) -> DjangoFixup:
    """In place of Celery's built-in Django fixup (which would install the pool-closing one)."""
    return PoolKeepingDjangoFixup(app).install()


class DatabaseOutageTask(Task):
    """A task that meets PostgreSQL down gives up quietly: one warning line (per task, at most once a
    minute per process) instead of a traceback on every beat tick, and the work is done next time —
    the periodic tasks run again on their own, and what must not be lost waits in the database
    (outbox rows, deliveries, import runs), not in the task's arguments."""

    abstract = True
    _last_warned: dict[str, float] = {}  # per process, on purpose

    def __call__(self, *args, **kwargs):
        from core.db import is_database_unavailable

        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            now = time.monotonic()
            if now - self._last_warned.get(self.name, float("-inf")) >= 60:
                self._last_warned[self.name] = now
                logging.getLogger(__name__).warning("%s skipped: the database is unavailable (%s)", self.name, error)
            return None


app = Celery("voltwatch", fixups=[django_fixup], task_cls=DatabaseOutageTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_process_init.connect
def start_live_pusher(**kwargs) -> None:
    """Each worker process pushes the readings its tasks store to open pages from its own thread,
    started with the process (a thread does not survive the fork, so not in the parent)."""
    # Imported here: this module is loaded before Django is set up, and telemetry needs it.
    from telemetry.ingest import start_live_pusher

    start_live_pusher()
