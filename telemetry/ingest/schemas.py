"""The generic batch body, decoded and validated in one C pass (msgspec) — the ingest fast path.

The schemas are generated from the metric catalogue (`telemetry.metrics`), so a metric's type and
range are declared once. A body that does not fit them is handed to `telemetry.ingest.validation`, which
names every bad field (msgspec stops at the first); a body that fits never pays for that.
"""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from core.decoding import BIGINT_MAX, BIGINT_MIN
from telemetry.ingest.validation import MAX_ARRAY
from telemetry.metrics import METRICS, Metric


def _annotation(metric: Metric):
    bounds = {}
    if metric.minimum is not None:
        bounds = {"ge": metric.minimum, "le": metric.maximum}
    if metric.kind == "float":
        return Annotated[float, msgspec.Meta(**bounds)] | None
    if metric.kind == "int":
        return Annotated[int, msgspec.Meta(ge=0, le=metric.maximum)] | None
    if metric.kind == "bool":
        return bool | None
    if metric.kind == "float[]":
        return Annotated[list[Annotated[float, msgspec.Meta(**bounds)]], msgspec.Meta(max_length=MAX_ARRAY)] | None
    return Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None


def _values_struct(kind: str) -> type:
    fields = [(metric.name, _annotation(metric), None) for metric in METRICS[kind]]
    return msgspec.defstruct(
        f"{kind.title()}Values", fields, forbid_unknown_fields=True, omit_defaults=True, kw_only=True, gc=False
    )


# An id beyond PostgreSQL's bigint would fail in the asset query: the validator names it instead.
AssetRef = Annotated[int, msgspec.Meta(ge=BIGINT_MIN, le=BIGINT_MAX)] | str


class Kind(msgspec.Struct):
    kind: str = "battery"


def _batch_types(kind: str, values: type) -> tuple[type, type]:
    reading = msgspec.defstruct(
        f"{kind.title()}Reading",
        [("asset", AssetRef), ("time", int | float | datetime), ("values", values)],
        forbid_unknown_fields=True,
        gc=False,  # never in a cycle: 10,000 of them a batch need not be tracked by the collector
    )
    batch = msgspec.defstruct(
        f"{kind.title()}Batch",
        [("kind", Literal[kind], kind), ("readings", Annotated[list[reading], msgspec.Meta(min_length=1)])],
        forbid_unknown_fields=True,
        kw_only=True,
    )
    return batch, list[reading]


DECODERS = {}
for _kind in METRICS:
    _batch, _bare = _batch_types(_kind, _values_struct(_kind))
    DECODERS[_kind] = (msgspec.json.Decoder(_batch, strict=False), msgspec.json.Decoder(_bare, strict=False))
KIND_DECODER = msgspec.json.Decoder(Kind)


class DoesNotFit(Exception):
    """The body is not a well-formed batch: the detailed validator will say why."""


def decode_batch(body: bytes) -> tuple[str, list]:
    """(kind, readings) where each reading has `.asset`, `.time` and `.values` (a struct with an
    attribute per metric, None where absent). Raises DoesNotFit for anything else, and for any
    body with a NUL (`\\u0000`, in JSON only ever escaped): the front door (`core.decoding`) names
    the field where it is."""
    if b"\\u0000" in body:
        raise DoesNotFit("a NUL character")
    try:
        if body.lstrip()[:1] == b"[":
            readings = DECODERS["battery"][1].decode(body)
            if not readings:
                raise DoesNotFit("no readings")
            return "battery", readings
        kind = KIND_DECODER.decode(body).kind
        if kind not in DECODERS:
            raise DoesNotFit(kind)
        return kind, DECODERS[kind][0].decode(body).readings
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError) as exc:
        raise DoesNotFit(str(exc)) from None
