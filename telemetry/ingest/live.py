"""After the commit: readings → open portal pages, coalesced off the request.

A busy asset may receive hundreds of readings a second over many requests. Each process gathers
what it stored, and a background thread sends each tenant, every `TELEMETRY_LIVE_FLUSH_S` (50 ms),
ONE `telemetry.readings` event carrying every asset's new points (every point is delivered, in
fewer, larger messages; a page never lags more than a flush behind). The request that stored the
readings does not wait. A push is a courtesy to open pages: a process that dies loses at most one
flush of them, and the pages load what is stored when they reconnect. What must not be lost, the
threshold checks, is marked in the readings' transaction (telemetry.ingest.thresholds).
"""

import asyncio
import logging
import threading
import time

from django.conf import settings

from core.realtime import anotify_tenant, has_listeners, notify_tenant, tenant_group
from telemetry.ingest.batch import ReadingBatch, unix_millis
from telemetry.metrics import ARRAY_METRICS

logger = logging.getLogger(__name__)

EVENT_TYPE = "telemetry.readings"
MAX_POINTS = 1000  # per asset and flush: a page's chart never shows more


def event_payload(batch: ReadingBatch, asset_id: int, indexes: list[int], millis: list[int]) -> dict:
    """One asset's new readings (`indexes` into `batch`, in time order), column by column: `points`
    holds `t` (unix ms) and one list per metric (null where a reading lacks it). Columns are cheaper
    to build and to send than one object per point, and charts take them as they are."""
    latest = indexes[-1]
    window = indexes[-MAX_POINTS:]
    points = {"t": [millis[index] for index in window]}
    for name, column in batch.values.items():
        if name not in ARRAY_METRICS[batch.kind]:
            values = [column[index] for index in window]
            if values.count(None) != len(values):
                points[name] = values
    return {
        "kind": batch.kind,
        "asset": asset_id,
        "count": len(indexes),
        "latest": {"time": batch.times[latest].isoformat(), "values": batch.values_at(latest)},
        "points": points,
    }


def by_kind(batches: list[ReadingBatch]) -> list[list[ReadingBatch]]:
    kinds: dict[str, list[ReadingBatch]] = {}
    for batch in batches:
        kinds.setdefault(batch.kind, []).append(batch)
    return list(kinds.values())


def tenant_payload(batches: list[ReadingBatch]) -> dict:
    updates = []
    for alike in by_kind(batches):
        batch = ReadingBatch.concatenate(alike)
        millis = unix_millis(batch.micros())
        for asset_id, indexes in batch.by_asset().items():
            updates.append(event_payload(batch, asset_id, indexes, millis))
    return {"updates": updates}


class LivePusher:
    """Sends each tenant's new readings to its open pages, coalesced: a thread flushes what this
    process stored every `interval`. Started with the process that serves them (`start_live_pusher`
    in the ASGI application and each Celery worker process); where none was started (a shell, a
    management command) readings are pushed as they commit."""

    def __init__(self, interval: float):
        self.interval = interval
        self._lock = threading.Lock()
        self._pending: dict[str, list[ReadingBatch]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if not self.running:
                self._thread = threading.Thread(target=self._run, name="telemetry-live-pusher", daemon=True)
                self._thread.start()

    def add(self, schema: str, batch: ReadingBatch) -> None:
        with self._lock:
            self._pending.setdefault(schema, []).append(batch)
        self._wake.set()

    def _take(self) -> dict[str, list[ReadingBatch]]:
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        while True:
            self._wake.wait()
            self._wake.clear()
            pending = self._take()
            # Thousands of points a second make a costly payload: built only for open pages.
            listened = {schema: batches for schema, batches in pending.items() if has_listeners(tenant_group(schema))}
            if listened:
                try:
                    loop.run_until_complete(self._send(listened))
                except Exception:
                    logger.exception("live push failed")
            # Readings arriving during the pause join the next flush instead of each costing one.
            time.sleep(self.interval)

    async def _send(self, pending: dict[str, list[ReadingBatch]]) -> None:
        for schema, batches in pending.items():
            await anotify_tenant(schema, EVENT_TYPE, tenant_payload(batches), json_safe=True)


pusher = LivePusher(settings.TELEMETRY_LIVE_FLUSH_S)


def start_live_pusher() -> None:
    pusher.start()


def readings_committed(schema: str, batch: ReadingBatch) -> None:
    """After the commit of readings: to the pages of the tenant (their threshold check is marked in
    the readings' own transaction, see telemetry.ingest.thresholds)."""
    if pusher.running:
        pusher.add(schema, batch)
    elif has_listeners(tenant_group(schema)):
        notify_tenant(schema, EVENT_TYPE, tenant_payload([batch]), json_safe=True)
