"""Checking readings before anything is stored: every value against its metric, every field named.

This is the ingest hot path (tens of thousands of readings a second), so it works on plain dicts
with one small function per metric kind rather than a serializer per reading.
"""

import math
from array import array
from datetime import datetime, timedelta

from django.utils import timezone

from core.moments import parse_moment
from telemetry.metrics import METRICS, Metric

MAX_ERRORS = 50
MAX_ARRAY = 1024
MAX_FUTURE = timedelta(days=1)


class Invalid(Exception):
    """Field path → reason, for a 400 that names every bad field (up to MAX_ERRORS)."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _number(value, metric: Metric) -> float:
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
    elif kind is str:
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            raise ValueError(f"Expected a number, got “{value[:40]}”.") from None
    else:
        raise ValueError("Expected a number.")
    if not math.isfinite(number):
        raise ValueError("Expected a finite number.")
    if metric.minimum is not None and not metric.minimum <= number <= metric.maximum:
        raise ValueError(f"Must be between {metric.minimum:g} and {metric.maximum:g} {metric.unit}".strip() + ".")
    return number


def _integer(value, metric: Metric) -> int:
    if type(value) is int or (type(value) is str and value.strip().isdigit()):
        number = int(value)
        if 0 <= number <= metric.maximum:
            return number
    raise ValueError("Expected a non-negative integer (a bit field).")


def _array(value, metric: Metric) -> list[float]:
    if type(value) is not list:
        raise ValueError("Expected a list of numbers.")
    if len(value) > MAX_ARRAY:
        raise ValueError(f"At most {MAX_ARRAY} values.")
    # Fast path in C: numbers convert to doubles at once, fsum catches NaN and infinities, min/max
    # the range. Anything else (numbers as text, a bad item) takes the item-by-item path and its message.
    try:
        doubles = array("d", value)
        if (
            doubles
            and math.isfinite(math.fsum(doubles))
            and metric.minimum <= min(doubles)
            and max(doubles) <= metric.maximum
        ):
            return doubles.tolist()
    except (TypeError, OverflowError):
        pass
    try:
        return [_number(item, metric) for item in value]
    except ValueError as exc:
        raise ValueError(f"Every item: {exc}") from None


def _text(value, metric: Metric) -> str:
    if type(value) is not str or not value.strip():
        raise ValueError("Expected text.")
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    if len(value) > 32 and metric.name == "state":
        raise ValueError("At most 32 characters.")
    return value.strip()[:255]


def _boolean(value, metric: Metric) -> bool:
    if type(value) is bool:
        return value
    raise ValueError("Expected true or false.")


_CHECKS = {"float": _number, "int": _integer, "float[]": _array, "text": _text, "bool": _boolean}
CHECKS = {kind: {m.name: (_CHECKS[m.kind], m) for m in metrics} for kind, metrics in METRICS.items()}


def clean_values(kind: str, values, where: str, errors: dict[str, str]) -> dict | None:
    """The values of one reading, coerced (what they imply is added when the batch is stored)."""
    if type(values) is not dict or not values:
        errors[where] = "Give an object of metric → value with at least one metric."
        return None
    checks = CHECKS[kind]
    cleaned = {}
    for name, value in values.items():
        check = checks.get(name)
        if check is None:
            if value is not None:
                errors[f"{where}.{name}"] = f"Unknown metric for a {kind}; known: {', '.join(checks)}."
            continue
        metric = check[1]
        # The common case, inline: a plain number within the metric's range.
        if type(value) is float and metric.kind == "float" and metric.minimum <= value <= metric.maximum:
            cleaned[name] = value
            continue
        if value is None:
            continue
        try:
            cleaned[name] = check[0](value, metric)
        except ValueError as exc:
            errors[f"{where}.{name}"] = str(exc)
    return cleaned


def clean_time(value, where: str, errors: dict[str, str], now: datetime) -> datetime | None:
    try:
        moment = parse_moment(value)
    except ValueError as exc:
        errors[where] = str(exc)
        return None
    if moment > now + MAX_FUTURE:
        errors[where] = "Is more than a day in the future: check the device's clock."
        return None
    return moment


def now() -> datetime:
    return timezone.now()
