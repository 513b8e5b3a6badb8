"""Device formats → readings. Each adapter turns one wire format into `Report`s whose values use the
metric names of `telemetry.metrics`; the ingestion service validates and stores them.

An adapter raises `AdapterError(field, reason)` on input it cannot read: the API answers 400 with
that field and reason, and nothing of the request is stored.
"""

from dataclasses import dataclass, field
from datetime import datetime


class AdapterError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Report:
    """One reading of one asset. `time` None means "now" (the server stamps it); `device` is the
    identity the payload claims (a serial, a MAC, a ThingSet node id), when it carries one."""

    values: dict = field(default_factory=dict)
    time: datetime | None = None
    device: str | None = None
