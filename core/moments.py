"""Moments as devices send them: unix seconds or milliseconds (number or numeric string), or ISO 8601."""

import math
from datetime import UTC, datetime

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def parse_moment(value) -> datetime:
    """An aware UTC datetime, or ValueError saying what is wrong. Naive ISO dates are taken as UTC."""
    if isinstance(value, bool) or value is None:
        raise ValueError("Give unix seconds, milliseconds or an ISO 8601 date-time.")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise ValueError("Give unix seconds, milliseconds or an ISO 8601 date-time.") from None
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not math.isfinite(number) or number < 0:
        raise ValueError("Give unix seconds, milliseconds or an ISO 8601 date-time.")
    # Milliseconds since 1970 passed 1e11 in 1973; seconds will not reach it for 3,000 years.
    return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC)
