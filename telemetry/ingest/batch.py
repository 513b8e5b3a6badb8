"""A batch of one kind's readings, held column by column.

Ingestion takes tens of thousands of readings a second. Held as one list per metric, a batch goes
through each step (derived values, the COPY encoding, live updates, threshold checks) in a few
C-level passes per column, where one Python object per reading cost more than storing it.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain, repeat
from operator import is_not

import numpy as np
from msgspec.structs import astuple

from telemetry.metrics import COLUMNS

EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's timestamps count from here
_ONE_US = timedelta(microseconds=1)
UNIX_EPOCH_MICROS = (datetime(1970, 1, 1, tzinfo=UTC) - EPOCH_2000) // _ONE_US  # in PostgreSQL's count


@dataclass(slots=True)
class Reading:
    """One reading, as the device adapters and the detailed validator build them."""

    asset_id: int
    time: datetime
    values: dict


@dataclass(slots=True, eq=False)
class ReadingBatch:
    """Readings of one kind: `values` maps each metric that at least one reading has to a list with
    one value per reading (None where a reading lacks it)."""

    kind: str
    asset_ids: list[int]
    times: list[datetime]
    values: dict[str, Sequence]
    # numpy copies of columns, made once and shared by the steps (COPY encoding, threshold checks);
    # each remembers the column it was made from, so a replaced column is converted afresh.
    _arrays: dict[str, tuple[Sequence, np.ndarray | None]] = field(default_factory=dict, repr=False)
    _micros: list[int] | None = field(default=None, repr=False)

    @classmethod
    def from_readings(cls, kind: str, readings: Sequence[Reading]) -> "ReadingBatch":
        present = set().union(*(reading.values for reading in readings))
        return cls(
            kind,
            [reading.asset_id for reading in readings],
            [reading.time for reading in readings],
            {name: [r.values.get(name) for r in readings] for name in COLUMNS[kind] if name in present},
        )

    @classmethod
    def from_structs(cls, kind: str, asset_ids: list[int], times: list[datetime], structs: list) -> "ReadingBatch":
        """From msgspec structs with one field per metric, in `COLUMNS` order (`telemetry.ingest.schemas`)."""
        columns = zip(*map(astuple, structs), strict=True)  # rows → columns, in C
        named = zip(COLUMNS[kind], columns, strict=True)
        # A metric some reading has: the scan stops at the first value, so a full column costs nothing.
        values = {name: column for name, column in named if any(map(is_not, column, repeat(None)))}
        return cls(kind, asset_ids, times, values)

    @classmethod
    def concatenate(cls, batches: Sequence["ReadingBatch"], names: Iterable[str] | None = None) -> "ReadingBatch":
        """One batch of the readings of `batches` (of one kind), with every metric or only `names`."""
        if len(batches) == 1 and names is None:
            return batches[0]
        names = [
            name
            for name in (COLUMNS[batches[0].kind] if names is None else names)
            if any(name in batch.values for batch in batches)
        ]
        joined = cls(
            batches[0].kind,
            list(chain.from_iterable(batch.asset_ids for batch in batches)),
            list(chain.from_iterable(batch.times for batch in batches)),
            {
                name: list(chain.from_iterable(batch.values.get(name) or [None] * len(batch) for batch in batches))
                for name in names
            },
        )
        joined._micros = list(chain.from_iterable(batch.micros() for batch in batches))
        return joined

    def __len__(self) -> int:
        return len(self.asset_ids)

    def select(self, indexes: Sequence[int]) -> "ReadingBatch":
        """The readings at `indexes`, in that order."""

        def pick(column: list) -> list:
            return [column[index] for index in indexes]

        values = {name: pick(column) for name, column in self.values.items()}
        return ReadingBatch(
            self.kind,
            pick(self.asset_ids),
            pick(self.times),
            {name: column for name, column in values.items() if column.count(None) != len(column)},
        )

    def micros(self) -> list[int]:
        """The readings' times as PostgreSQL stores them: microseconds since 2000-01-01 UTC."""
        if self._micros is None:
            self._micros = postgres_micros(self.times)
        return self._micros

    def values_at(self, index: int) -> dict:
        return {name: column[index] for name, column in self.values.items() if column[index] is not None}

    def has_empty_reading(self) -> bool:
        """Whether some reading carries no value at all."""
        sparse = []
        for column in self.values.values():
            if None not in column:
                return False  # a column without a gap gives every reading a value
            sparse.append(column)
        return not sparse or any(not any(map(is_not, row, repeat(None))) for row in zip(*sparse, strict=True))

    def matrix(self, name: str) -> np.ndarray | None:
        """The arrays of metric `name` (cell voltages…) as one 2-D array of floats, when every
        reading has one and all have the same length; else None."""
        return self._array(name, _matrix)

    def floats(self, name: str) -> np.ndarray:
        """The numbers of metric `name` as floats, NaN where a reading lacks it (validated readings
        never hold NaN)."""
        return self._array(name, _floats)

    def ids(self) -> np.ndarray:
        return self._array("asset_id", np.array, self.asset_ids)

    def micros_array(self) -> np.ndarray:
        return self._array("time", np.array, self.micros())

    def _array(self, name: str, convert: Callable, column: Sequence | None = None):
        column = self.values[name] if column is None else column
        known = self._arrays.get(name)
        if known is not None and known[0] is column:
            return known[1]
        array = convert(column)
        self._arrays[name] = (column, array)
        return array

    def _set_column(self, name: str, array: np.ndarray) -> None:
        """A metric computed in numpy: the list for everyone, the array for the numpy steps."""
        self.values[name] = column = array.tolist()
        self._arrays[name] = (column, array)

    def without_repeats(self) -> tuple["ReadingBatch", list[int] | None]:
        """The first reading of each (asset, time): a batch may carry the same reading twice. With
        the positions the kept readings had in this batch, or None when every reading was kept."""
        assets, micros = self.ids(), self.micros_array()
        order = np.lexsort((micros, assets))  # stable: of equal readings, the first sent comes first
        assets, micros = assets[order], micros[order]
        repeated = (assets[1:] == assets[:-1]) & (micros[1:] == micros[:-1])
        if not repeated.any():
            return self, None
        keep = np.ones(len(self), dtype=bool)
        keep[order[1:][repeated]] = False
        positions = np.flatnonzero(keep).tolist()
        return self.select(positions), positions

    def by_asset(self) -> dict[int, list[int]]:
        """Each asset's readings (their indexes), in time order."""
        positions: dict[int, list[int]] = {}
        for index, asset_id in enumerate(self.asset_ids):
            positions.setdefault(asset_id, []).append(index)
        moment = self.times.__getitem__
        for indexes in positions.values():
            indexes.sort(key=moment)
        return positions

    def derive(self, target: str, compute: Callable[..., list], *sources: str) -> None:
        """Fill the metric `target` where a reading lacks it but has every one of `sources`
        (non-empty): `compute` takes the sources' columns and returns the target's column."""
        columns = [self.values.get(name) for name in sources]
        if any(column is None for column in columns):
            return
        given = self.values.get(target)
        if given is None and not any(None in column or [] in column for column in columns):
            self.values[target] = compute(*columns)  # the usual case: a whole column at once
            return
        given = given or [None] * len(self)
        wanted = [
            index
            for index, (value, *inputs) in enumerate(zip(given, *columns, strict=True))
            if value is None and all(item is not None and item != [] for item in inputs)
        ]
        if wanted:
            given = list(given)
            computed = compute(*([column[index] for index in wanted] for column in columns))
            for index, value in zip(wanted, computed, strict=True):
                given[index] = value
            self.values[target] = given

    def derive_battery_values(self) -> None:
        """What battery readings imply when they do not say it: cell min/max from the cells,
        power from voltage and current."""
        for target, source, extreme in (
            ("cell_voltage_min", "cell_voltages", min),
            ("cell_voltage_max", "cell_voltages", max),
            ("temperature_min", "cell_temperatures", min),
            ("temperature_max", "cell_temperatures", max),
        ):
            matrix = self.matrix(source) if source in self.values and target not in self.values else None
            if matrix is not None:  # the usual case: every reading has its cells, all alike
                self._set_column(target, matrix.min(axis=1) if extreme is min else matrix.max(axis=1))
            else:
                self.derive(target, _each(extreme), source)
        self.derive("power", _power, "voltage", "current")


def _each(function: Callable) -> Callable[[list], list]:
    return lambda column: list(map(function, column))


def _matrix(column: Sequence) -> np.ndarray | None:
    if None in column:
        return None
    lengths = set(map(len, column))
    if len(lengths) != 1 or not (width := lengths.pop()):
        return None
    return np.fromiter(chain.from_iterable(column), float, len(column) * width).reshape(-1, width)


def _floats(column: Sequence) -> np.ndarray:
    return np.array(column, dtype=float)  # None → NaN


def _power(voltages: Sequence, currents: Sequence) -> list:
    return np.round(np.multiply(np.array(voltages, dtype=float), np.array(currents, dtype=float)), 3).tolist()


def postgres_micros(times: Iterable[datetime]) -> list[int]:
    """Microseconds since 2000-01-01 UTC, PostgreSQL's timestamp. A batch repeats the same few
    moments (many assets reporting at each), so each distinct one is converted once."""
    times = list(times)
    known = {moment: (moment - EPOCH_2000) // _ONE_US for moment in set(times)}
    return list(map(known.__getitem__, times))


def unix_millis(micros: Iterable[int]) -> list[int]:
    """Milliseconds since 1970, from `postgres_micros`."""
    return [(micro - UNIX_EPOCH_MICROS) // 1000 for micro in micros]
