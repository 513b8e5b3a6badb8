"""Serializer fields shared by the APIs: strict objects, timestamps in any common form, sizes,
date-times in UTC, people by email."""

import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from rest_framework import serializers

from core.moments import parse_moment

MAX_FUTURE = timedelta(days=1)
MAX_AGE = timedelta(days=30)  # devices keep reports while the server is unreachable
SIZE_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$", re.IGNORECASE)
MAX_SIZE = 2**63 - 1  # bytes, as the bigint columns hold them
SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}


EARLIEST_DATE_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_DATE_TIME = datetime(2100, 1, 1, tzinfo=UTC)


class DateTimeField(serializers.DateTimeField):
    """ISO 8601, in UTC both ways, between 2000 and 2099.

    In UTC because a tenant's zone applied to any moment before its standard time (1911 for Paris)
    gives local mean time, `+00:09:21`, which no client parses; naive input is UTC, as everywhere
    else in the API. Bounded because no monitoring data, silence or schedule lies outside, and a
    year 527 is a typing mistake to refuse, not a date to store.
    """

    default_error_messages = {
        "out_of_range": "Give a date-time between 2000-01-01 and 2099-12-31.",
        "overflow": "Give a date-time between 2000-01-01 and 2099-12-31.",  # DRF's, past year 1 or 9999
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not EARLIEST_DATE_TIME <= moment < LATEST_DATE_TIME:
            self.fail("out_of_range")
        return moment


class EmailOfField(serializers.EmailField):
    """The email of the person a relation points to (`author`, `assignee`), null when there is none."""

    def __init__(self, relation: str, **kwargs):
        super().__init__(source=f"{relation}.email", default=None, allow_null=True, read_only=True, **kwargs)


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know, naming them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class SizeField(serializers.Field):
    """Bytes, as an integer or a `df -h` size such as "32G" or "1.5T", up to what a bigint column holds."""

    default_error_messages = {
        "invalid": 'Give bytes or a size like "32G".',
        "negative": "Must not be negative.",
        "too_large": "Is larger than 8 EiB: check the unit.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, (int, float)):
            size = data
        else:
            match = SIZE_RE.match(str(data))
            if not match:
                self.fail("invalid")
            size = float(match.group(1).replace(",", ".")) * SIZE_UNITS[match.group(2).upper()]
        if size < 0:
            self.fail("negative")
        if not size <= MAX_SIZE:  # also refuses infinity (a 400-digit size)
            self.fail("too_large")
        return int(size)

    def to_representation(self, value):
        return value


class TimestampField(serializers.Field):
    """Unix seconds or milliseconds (number or numeric string), or ISO 8601. `bounded` refuses
    moments more than a day ahead or 30 days back (a device's clock gone wrong)."""

    def __init__(self, *, bounded: bool = True, **kwargs):
        self.bounded = bounded
        super().__init__(**kwargs)

    default_error_messages = {
        "invalid": "Give unix seconds, milliseconds or an ISO 8601 date-time.",
        "future": "Is more than a day in the future: check the device's clock.",
        "old": "Is more than 30 days old.",
    }

    def to_internal_value(self, data):
        try:
            moment = parse_moment(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        now = timezone.now()
        if self.bounded and moment > now + MAX_FUTURE:
            self.fail("future")
        if self.bounded and moment < now - MAX_AGE:
            self.fail("old")
        return moment

    def to_representation(self, value):
        return int(value.timestamp())
