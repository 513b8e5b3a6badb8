"""Moments as devices and people send them: unix seconds or milliseconds (number or numeric string),
ISO 8601, or a datetime already decoded — the one time parser of the platform, and its bounds.

Every moment is between EARLIEST (2000-01-01) and LATEST (2100-01-01) UTC. No device of the
platform predates 2000, so an earlier moment is a clock that was never set (or milliseconds read as
seconds); LATEST is far beyond any sensible clock yet well within what Python's datetime and
PostgreSQL's timestamptz hold, so nothing past the parser can overflow. Callers add their own,
tighter window where they need one (a device's clock may not run a day ahead: `telemetry.ingest.validation`,
`core.api.fields.TimestampField`).
"""

import math
from datetime import UTC, datetime

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_EARLIEST_S, _LATEST_S = EARLIEST.timestamp(), LATEST.timestamp()
# Milliseconds since 1970 passed 1e11 in 1973; seconds will not reach it for 3,000 years.
_MILLISECONDS_FROM = 1e11

INVALID = "Give unix seconds, milliseconds or an ISO 8601 date-time."
NOT_FINITE = "Is not a finite number: give unix seconds, milliseconds or an ISO 8601 date-time."
TOO_EARLY = "Is before the year 2000: check the device's clock or the unit (seconds or milliseconds)."
TOO_LATE = "Is after the year 2100: check the device's clock or the unit (seconds or milliseconds)."


def parse_moment(value, *, unit: str = "auto") -> datetime:
    """An aware UTC datetime within [EARLIEST, LATEST], or ValueError saying what is wrong (never
    OverflowError or OSError). Naive ISO dates are taken as UTC. `unit="s"` for formats whose
    numbers are always seconds (Shelly's `unixtime`, ThingSet's `t_s`, candump); "auto" tells
    milliseconds from seconds by size."""
    if isinstance(value, bool) or value is None:
        raise ValueError(INVALID)
    if isinstance(value, datetime):
        return _bounded(value)
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise ValueError(INVALID) from None
            return _bounded(moment)
    else:
        raise ValueError(INVALID)
    return _from_number(number, unit)


def _from_number(number, unit: str) -> datetime:
    try:
        seconds = float(number)
    except OverflowError:  # an integer beyond a double
        raise ValueError(TOO_LATE if number > 0 else TOO_EARLY) from None
    if not math.isfinite(seconds):
        raise ValueError(NOT_FINITE)
    if unit == "auto" and seconds > _MILLISECONDS_FROM:
        seconds /= 1000
    if seconds < _EARLIEST_S:
        raise ValueError(TOO_EARLY)
    if seconds >= _LATEST_S:
        raise ValueError(TOO_LATE)
    return datetime.fromtimestamp(seconds, tz=UTC)


def _bounded(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 with an offset
            raise ValueError(TOO_EARLY if moment.year < EARLIEST.year else TOO_LATE) from None
    if moment < EARLIEST:
        raise ValueError(TOO_EARLY)
    if moment >= LATEST:
        raise ValueError(TOO_LATE)
    return moment
