"""After the commit: readings → open portal pages and → threshold rules, coalesced off the request.

A busy asset may receive hundreds of readings a second over many requests. Each process gathers
what it stored, and a background thread every `TELEMETRY_LIVE_FLUSH_S` (50 ms):
- sends each tenant ONE `telemetry.readings` event carrying every asset's new points (every point is
  delivered, in fewer, larger messages; a page never lags more than a flush behind);
- checks the tenant's threshold rules at most every `TELEMETRY_THRESHOLD_FLUSH_S` (1 s), once per
  asset over all its readings since (their extremes count, so a spike is not missed).
The request that stored the readings does not wait for either. With `TELEMETRY_AFTER_COMMIT=inline`
(the test suite) both run in the committing thread instead, on its connection.
"""

import asyncio
import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django_tenants.utils import schema_context

from core.realtime import anotify_tenant, has_listeners, notify_tenant, tenant_group
from telemetry.batch import ReadingBatch, unix_millis
from telemetry.metrics import ARRAY_METRICS
from telemetry.thresholds import evaluate_batches

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


def check_thresholds(batches: list[ReadingBatch]) -> None:
    for alike in by_kind(batches):
        evaluate_batches(alike)


class AfterCommit:
    def __init__(self, interval: float, threshold_interval: float):
        self.interval = interval
        self.threshold_interval = threshold_interval
        self._lock = threading.Lock()
        self._pending: dict[str, list[ReadingBatch]] = {}
        # Batches waiting for their threshold check, which runs at most every `threshold_interval`:
        # a busy asset is checked once over a second of readings, not twenty times.
        self._unchecked: dict[str, list[ReadingBatch]] = {}
        self._checked_at = 0.0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, schema: str, batch: ReadingBatch) -> None:
        with self._lock:
            self._pending.setdefault(schema, []).append(batch)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="telemetry-after-commit", daemon=True)
                self._thread.start()
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
                loop.run_until_complete(self._send(listened))
            for schema, batches in pending.items():
                self._unchecked.setdefault(schema, []).extend(batches)
            self._check_due()
            # Readings arriving during the pause join the next flush instead of each costing one.
            time.sleep(self.interval)
            if self._unchecked and not self._wake.is_set():
                self._wake.set()  # come back to check what is still waiting

    def _check_due(self) -> None:
        if time.monotonic() - self._checked_at < self.threshold_interval:
            return
        unchecked, self._unchecked = self._unchecked, {}
        self._checked_at = time.monotonic()
        for schema, batches in unchecked.items():
            try:
                close_old_connections()
                with schema_context(schema):
                    check_thresholds(batches)
            except Exception:
                logger.exception("threshold evaluation failed for %s", schema)

    async def _send(self, pending: dict[str, list[ReadingBatch]]) -> None:
        for schema, batches in pending.items():
            await anotify_tenant(schema, EVENT_TYPE, tenant_payload(batches), json_safe=True)


after_commit = AfterCommit(settings.TELEMETRY_LIVE_FLUSH_S, settings.TELEMETRY_THRESHOLD_FLUSH_S)


def readings_committed(schema: str, batch: ReadingBatch) -> None:
    if settings.TELEMETRY_AFTER_COMMIT == "inline":
        notify_tenant(schema, EVENT_TYPE, tenant_payload([batch]), json_safe=True)
        check_thresholds([batch])
        return
    after_commit.add(schema, batch)
