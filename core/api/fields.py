"""Serializer fields shared by the APIs: strict objects, timestamps in any common form, sizes."""

import re
from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from core.moments import parse_moment

MAX_FUTURE = timedelta(days=1)
MAX_AGE = timedelta(days=30)  # devices keep reports while the server is unreachable
SIZE_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$", re.IGNORECASE)
SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know, naming them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class SizeField(serializers.Field):
    """Bytes, as an integer or a `df -h` size such as "32G" or "1.5T"."""

    default_error_messages = {"invalid": 'Give bytes or a size like "32G".', "negative": "Must not be negative."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, (int, float)):
            if data < 0:
                self.fail("negative")
            return int(data)
        match = SIZE_RE.match(str(data))
        if not match:
            self.fail("invalid")
        number = float(match.group(1).replace(",", "."))
        return int(number * SIZE_UNITS[match.group(2).upper()])

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
        except ValueError:
            self.fail("invalid")
        now = timezone.now()
        if self.bounded and moment > now + MAX_FUTURE:
            self.fail("future")
        if self.bounded and moment < now - MAX_AGE:
            self.fail("old")
        return moment

    def to_representation(self, value):
        return int(value.timestamp())
