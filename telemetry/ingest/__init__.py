"""The telemetry ingest path, one package with one front door (this module).

Readings travel through it in this order:
- `schemas`: the JSON shapes devices and integrators send, decoded by msgspec in one pass;
- `validation`: every value against its metric's type and bounds, times normalised (`Invalid`
  names each bad field; nothing of a bad batch is stored);
- `batch`: `ReadingBatch`, the readings column by column, with what they imply (cell extremes,
  power) derived in numpy;
- `copy_binary`: the batch encoded in PostgreSQL's binary COPY format;
- `store`: one transaction writes the readings, the rollups' dirty hours, the threshold checker's
  marks and the outbox reference (`store_batch`, `store_readings`), idempotent on (asset, time);
- `events`: the Kafka events the outbox relay builds from the stored rows;
- `live`: after the commit, the readings pushed to open pages, coalesced;
- `thresholds` and `checker`: the marked readings checked against the tenant's rules by the
  threshold checker process.

Outside this package, code uses the names below (and `schemas`/`validation` for request shapes and
their errors); the rest are the package's own workings.
"""

from telemetry.ingest.batch import Reading, ReadingBatch
from telemetry.ingest.checker import ThresholdChecker
from telemetry.ingest.live import start_live_pusher
from telemetry.ingest.store import Conflict, Conflicting, OnConflict, Stored, store_batch, store_readings
from telemetry.ingest.validation import MAX_ERRORS, Invalid

__all__ = [
    "MAX_ERRORS",
    "Conflict",
    "Conflicting",
    "Invalid",
    "OnConflict",
    "Reading",
    "ReadingBatch",
    "Stored",
    "ThresholdChecker",
    "start_live_pusher",
    "store_batch",
    "store_readings",
]
