"""Readings → open portal pages, coalesced.

A busy asset may receive hundreds of readings a second over many requests. Instead of one channel
message per reading, each process gathers what it stored per asset and a background thread sends one
`telemetry.readings` event per asset every `TELEMETRY_LIVE_FLUSH_S` (50 ms): every point is
delivered, in fewer, larger messages, and a page never lags more than a flush behind.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Sequence

from django.conf import settings

from core.realtime import anotify_tenant
from telemetry.metrics import METRICS

logger = logging.getLogger(__name__)

EVENT_TYPE = "telemetry.readings"
MAX_POINTS = 1000  # per asset and flush: a page's chart never shows more
SCALARS = {kind: [m.name for m in metrics if m.kind in ("float", "int", "bool")] for kind, metrics in METRICS.items()}


class Coalescer:
    def __init__(self, interval: float):
        self.interval = interval
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, int], list] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, schema: str, kind: str, readings: Sequence) -> None:
        with self._lock:
            for reading in readings:
                self._pending.setdefault((schema, kind, reading.asset_id), []).append(reading)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="telemetry-live", daemon=True)
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
            loop.run_until_complete(self._send(self._take()))
            # Readings arriving during the pause join the next message instead of each sending one.
            time.sleep(self.interval)

    async def _send(self, pending: dict) -> None:
        for (schema, kind, asset_id), readings in pending.items():
            try:
                await anotify_tenant(schema, EVENT_TYPE, event_payload(kind, asset_id, readings))
            except Exception:  # live updates are best effort: the database holds the readings
                logger.warning("could not push readings of %s %s", kind, asset_id, exc_info=True)

    def flush(self) -> None:
        """Send what is pending now, from the calling thread (tests, shutdown)."""
        pending = self._take()
        if pending:
            asyncio.run(self._send(pending))


def event_payload(kind: str, asset_id: int, readings: Sequence) -> dict:
    readings = sorted(readings, key=lambda r: r.time)
    scalars = SCALARS[kind]
    latest = readings[-1]
    return {
        "kind": kind,
        "asset": asset_id,
        "count": len(readings),
        "latest": {"time": latest.time.isoformat(), "values": latest.values},
        "points": [
            [r.time.isoformat(), {name: r.values[name] for name in scalars if r.values.get(name) is not None}]
            for r in readings[-MAX_POINTS:]
        ],
    }


coalescer = Coalescer(settings.TELEMETRY_LIVE_FLUSH_S)


def publish_readings(schema: str, kind: str, readings: Sequence) -> None:
    coalescer.add(schema, kind, readings)
