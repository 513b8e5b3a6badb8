"""What every reader gives the import: batches of sessions as typed tuples (`charging.rows.SESSION_FIELDS`),
of faults and vehicles as dicts with our field names (`charging.sources.columns`)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

BATCH_ROWS = 5000
# Sessions are read and merged this many at a time, each batch in its own transaction (50,000 measured
# no faster, and a batch is ~1 kB a row in memory; the next one is read while this one merges).
SESSION_BATCH_ROWS = 20_000


class SourceUnavailable(Exception):
    """The source cannot be read: down, refusing the credentials, or missing a table or column.
    The message is the exact reason, shown to the operator."""


@dataclass
class ConnectionReport:
    ok: bool
    reason: str = ""
    tables: dict[str, int] = field(default_factory=dict)
    newest_session: datetime | None = None


@dataclass
class SessionBatch:
    """Sessions read from a source: `rows` typed, in `charging.rows.SESSION_FIELDS` order; `refused`
    the (ID, reason) of the rows a value of which could not be read."""

    rows: list[tuple]
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.rows) + len(self.refused)


class Reader(Protocol):
    def count_sessions(self, since: datetime | None) -> int | None: ...

    def sessions(self, since: datetime | None) -> Iterator[SessionBatch]: ...

    def faults(self) -> Iterator[list[dict]]: ...

    def vehicles(self) -> Iterator[list[dict]]: ...

    def close(self) -> None: ...
