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
from collections import defaultdict
from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter

from django.conf import settings
from django.db import close_old_connections
from django_tenants.utils import schema_context

from core.realtime import ahas_listeners, anotify_tenant, tenant_group
from telemetry.metrics import METRICS

logger = logging.getLogger(__name__)

EVENT_TYPE = "telemetry.readings"
MAX_POINTS = 1000  # per asset and flush: a page's chart never shows more
ARRAYS = {kind: {m.name for m in metrics if m.kind == "float[]"} for kind, metrics in METRICS.items()}
by_time = attrgetter("time")


def event_payload(kind: str, asset_id: int, readings: Sequence) -> dict:
    """One asset's new readings, column by column: `points` holds `t` (unix ms) and one list per
    metric (null where a reading lacks it). Columns are cheaper to build and to send than one
    object per point, and charts take them as they are."""
    readings = sorted(readings, key=by_time)
    latest = readings[-1]
    window = readings[-MAX_POINTS:]
    values = [r.values for r in window]
    names = set().union(*values) - ARRAYS[kind]
    points = {"t": [int(r.time.timestamp() * 1000) for r in window]}
    for name in names:
        points[name] = list(map(dict.get, values, repeat(name)))  # a C loop per metric
    return {
        "kind": kind,
        "asset": asset_id,
        "count": len(readings),
        "latest": {"time": latest.time.isoformat(), "values": latest.values},
        "points": points,
    }


def tenant_payload(pending: dict[tuple[str, int], list]) -> dict:
    return {"updates": [event_payload(kind, asset_id, readings) for (kind, asset_id), readings in pending.items()]}


def check_thresholds(schema: str, pending: dict[tuple[str, int], list]) -> None:
    from telemetry.thresholds import evaluate_readings

    by_kind: dict[str, list] = defaultdict(list)
    for (kind, _asset_id), readings in pending.items():
        by_kind[kind].extend(readings)
    for kind, readings in by_kind.items():
        evaluate_readings(kind, readings)


class AfterCommit:
    def __init__(self, interval: float, threshold_interval: float):
        self.interval = interval
        self.threshold_interval = threshold_interval
        self._lock = threading.Lock()
        self._pending: dict[str, dict[tuple[str, int], list]] = {}
        # Readings waiting for their threshold check, which runs at most every `threshold_interval`:
        # a busy asset is checked once over a second of readings, not twenty times.
        self._unchecked: dict[str, dict[tuple[str, int], list]] = {}
        self._checked_at = 0.0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, schema: str, kind: str, readings: Sequence) -> None:
        with self._lock:
            tenant = self._pending.setdefault(schema, {})
            for reading in readings:
                tenant.setdefault((kind, reading.asset_id), []).append(reading)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="telemetry-after-commit", daemon=True)
                self._thread.start()
        self._wake.set()

    def _take(self) -> dict:
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        while True:
            self._wake.wait()
            self._wake.clear()
            pending = self._take()
            loop.run_until_complete(self._send(pending))
            for schema, assets in pending.items():
                unchecked = self._unchecked.setdefault(schema, {})
                for key, readings in assets.items():
                    unchecked.setdefault(key, []).extend(readings)
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
        for schema, assets in unchecked.items():
            try:
                close_old_connections()
                with schema_context(schema):
                    check_thresholds(schema, assets)
            except Exception:
                logger.exception("threshold evaluation failed for %s", schema)

    async def _send(self, pending: dict) -> None:
        for schema, assets in pending.items():
            # Thousands of points a second make a costly payload: build it only for open pages.
            if await ahas_listeners(tenant_group(schema)):
                await anotify_tenant(schema, EVENT_TYPE, tenant_payload(assets), json_safe=True)


after_commit = AfterCommit(settings.TELEMETRY_LIVE_FLUSH_S, settings.TELEMETRY_THRESHOLD_FLUSH_S)


def readings_committed(schema: str, kind: str, readings: Sequence) -> None:
    if settings.TELEMETRY_AFTER_COMMIT == "inline":
        assets: dict[tuple[str, int], list] = {}
        for reading in readings:
            assets.setdefault((kind, reading.asset_id), []).append(reading)
        from core.realtime import notify_tenant

        notify_tenant(schema, EVENT_TYPE, tenant_payload(assets), json_safe=True)
        check_thresholds(schema, assets)
        return
    after_commit.add(schema, kind, readings)
