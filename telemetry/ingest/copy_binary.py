"""A batch of readings → PostgreSQL's binary COPY format, alike rows a block at a time (numpy).

psycopg's `write_row` encodes row by row and value by value in Python: ≈ 2.5 µs per battery reading,
more than PostgreSQL takes to store it. Here the rows that share a layout — the same metrics null,
arrays of the same length, texts of the same byte length — become one numpy structured array whose
memory IS their COPY rows: field count, then each field's length and big-endian value. Each column
is converted once per block, in C. A gateway's batch is usually one block, or a few (one per text
length of the BMS state).

Row format (PostgreSQL's COPY BINARY): int16 field count, then per field an int32 length (-1 for
NULL) and the value; timestamptz is int64 microseconds since 2000-01-01; float8[] is array_send's
format (ndim, has-nulls flag, element type, then per dimension its length and lower bound, then each
element as int32 length and value).
"""

import numpy as np

from telemetry.ingest.batch import ReadingBatch
from telemetry.metrics import METRIC_BY_NAME

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # flags 0, no header extension
TRAILER = b"\xff\xff"
FLOAT8_OID = 701
NULL = -1
INT8_BYTES = 8  # bigint and timestamptz (microseconds) values
ARRAY_HEADER_INTS = 5  # ndim, has-nulls flag, element type, then the one dimension's length and lower bound
EMPTY_ARRAY_HEADER_INTS = 3  # an empty array has no dimension
ELEMENT_BYTES = 4 + 8  # each float8 element: its int32 length, then its value
_SCALARS = {"float": ">f8", "int": ">i8", "bool": "?"}
_LAYOUTS: dict[tuple, tuple[np.dtype, bytes]] = {}
_MAX_LAYOUTS = 1024


def encode(batch: ReadingBatch) -> tuple[list[str], bytes]:
    """The columns to COPY into (asset, time and the metrics the batch has) and the COPY stream."""
    metrics = METRIC_BY_NAME[batch.kind]
    names = list(batch.values)
    kinds = tuple(metrics[name].kind for name in names)
    columns, sizes = [], []
    for name, kind in zip(names, kinds, strict=True):
        column, size = _prepared(batch, name, kind)
        columns.append(column)
        sizes.append(size)
    varying = [index for index, size in enumerate(sizes) if type(size) is list]
    chunks = [SIGNATURE]
    for key, indexes in _blocks([sizes[index] for index in varying]):
        layout = list(sizes)
        for index, size in zip(varying, key, strict=True):
            layout[index] = size
        dtype, template = _layout(kinds, tuple(layout))
        # The constant bytes of every row at once: repeating bytes is a memcpy, where numpy's
        # broadcast of a structured row goes field by field.
        rows = np.frombuffer(bytearray(template * (len(batch) if indexes is None else len(indexes))), dtype)

        def take(column, indexes=indexes):
            if indexes is None:
                return column
            if type(column) is np.ndarray:
                return column[indexes]
            return [column[index] for index in indexes]

        rows["value0"] = take(batch.ids())
        rows["value1"] = take(batch.micros_array())
        for position, (kind, size, column) in enumerate(zip(kinds, layout, columns, strict=True), start=2):
            if size == NULL or (size == 0 and kind not in _SCALARS):
                continue  # NULL, or an empty text or array: nothing after the length
            if kind == "float[]":
                rows[f"value{position}"]["value"] = take(column)
            else:
                rows[f"value{position}"] = take(column)
        chunks.append(rows.tobytes())
    chunks.append(TRAILER)
    return ["asset_id", "time", *names], b"".join(chunks)


def _prepared(batch: ReadingBatch, name: str, kind: str) -> tuple:
    """A column ready for numpy, and its part in the rows' layout: one size for every row (NULL, a
    text's bytes, an array's items, 0 for a number), or a list with each row's."""
    column = batch.values[name]
    if kind == "float":
        values = batch.floats(name)  # None → NaN: validated readings never hold NaN
        nulls = np.isnan(values)
        return values, (np.where(nulls, NULL, 0).tolist() if nulls.any() else 0)
    if kind == "float[]":
        matrix = batch.matrix(name)
        if matrix is not None:
            return matrix, matrix.shape[1]  # every reading has an array of this width
        return column, [_size(array) for array in column]
    if kind == "text":
        if None in column:
            column = [None if text is None else text.encode() for text in column]
            return column, [_size(text) for text in column]
        column = list(map(str.encode, column))
        lengths = list(map(len, column))
        return column, (lengths[0] if lengths.count(lengths[0]) == len(lengths) else lengths)
    if None in column:
        return column, [_size(value, 0) for value in column]
    return column, 0


def _size(value, present: int | None = None) -> int:
    """A value's part in its row's layout: NULL, else its length (or `present` for a number)."""
    if value is None:
        return NULL
    return len(value) if present is None else present


def _blocks(shapes: list[list[int]]):
    """(layout of the varying columns, row indexes or None for all rows) for each block of alike rows."""
    if not shapes:
        yield (), None
        return
    keys = list(zip(*shapes, strict=True))
    if keys.count(keys[0]) == len(keys):
        yield keys[0], None
        return
    rows_of: dict[tuple, list[int]] = {}
    for index, key in enumerate(keys):
        rows_of.setdefault(key, []).append(index)
    yield from rows_of.items()


def _layout(kinds: tuple[str, ...], sizes: tuple[int, ...]) -> tuple[np.dtype, bytes]:
    """The structured dtype of a row and the bytes of a row holding its constants (field
    count, lengths, array headers); `sizes` per metric: NULL, a text's bytes, an array's items, or 0
    for a number."""
    key = (kinds, sizes)
    known = _LAYOUTS.get(key)
    if known is not None:
        return known
    # Field n of a row: `length{n}` (int32), then `value{n}`; a float8[] has `array_header{n}` between.
    fields: list[tuple] = [
        ("count", ">i2"),
        ("length0", ">i4"),
        ("value0", ">i8"),  # asset_id
        ("length1", ">i4"),
        ("value1", ">i8"),  # time
    ]
    constants: dict[str, object] = {"count": 2 + len(kinds), "length0": INT8_BYTES, "length1": INT8_BYTES}
    for position, (kind, size) in enumerate(zip(kinds, sizes, strict=True), start=2):
        length, value, header = f"length{position}", f"value{position}", f"array_header{position}"
        fields.append((length, ">i4"))
        if size == NULL:
            constants[length] = NULL
        elif kind == "text":
            constants[length] = size
            if size:
                fields.append((value, f"S{size}"))
        elif kind == "float[]":
            if size:
                element = [("length", ">i4"), ("value", ">f8")]
                fields += [(header, ">i4", (ARRAY_HEADER_INTS,)), (value, element, (size,))]
                constants[header] = (1, 0, FLOAT8_OID, size, 1)
                constants[length] = 4 * ARRAY_HEADER_INTS + ELEMENT_BYTES * size
            else:
                fields.append((header, ">i4", (EMPTY_ARRAY_HEADER_INTS,)))
                constants[header] = (0, 0, FLOAT8_OID)
                constants[length] = 4 * EMPTY_ARRAY_HEADER_INTS
        else:
            fields.append((value, _SCALARS[kind]))
            constants[length] = np.dtype(_SCALARS[kind]).itemsize
    dtype = np.dtype(fields)
    template = np.zeros(1, dtype)
    for name, constant in constants.items():
        template[name] = constant
    for position, (kind, size) in enumerate(zip(kinds, sizes, strict=True), start=2):
        if kind == "float[]" and size > 0:
            template[f"value{position}"]["length"] = 8  # each element's length: a float8
    if len(_LAYOUTS) >= _MAX_LAYOUTS:
        _LAYOUTS.clear()
    _LAYOUTS[key] = known = (dtype, template.tobytes())
    return known
