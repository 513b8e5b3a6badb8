"""What every reader gives the import: batches of rows with our field names (`charging.sources.columns`)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

BATCH_ROWS = 5000


class SourceUnavailable(Exception):
    """The source cannot be read: down, refusing the credentials, or missing a table or column.
    The message is the exact reason, shown to the operator."""


@dataclass
class ConnectionReport:
    ok: bool
    reason: str = ""
    tables: dict[str, int] = field(default_factory=dict)
    newest_session: datetime | None = None


class Reader(Protocol):
    def count_sessions(self, since: datetime | None) -> int | None: ...

    def sessions(self, since: datetime | None) -> Iterator[list[dict]]: ...

    def faults(self) -> Iterator[list[dict]]: ...

    def vehicles(self) -> Iterator[list[dict]]: ...

    def close(self) -> None: ...
