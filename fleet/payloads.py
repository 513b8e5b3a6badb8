"""The agent's payloads, validated strictly: every wrong type, missing field, unknown key or absurd
value is refused by name, before anything is stored. Numbers sent as strings ("45.2") are accepted,
as the customer's existing agent sends them, and so are `df -h` sizes ("32G")."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import SizeField, StrictSerializer, TimestampField

SITE_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
RUNNING_STATES = {"running", "active", "ok", "up", "started"}
SERVICE_STATES = RUNNING_STATES | {"stopped", "inactive", "failed", "dead", "exited", "unknown", "down"}
PRESENT_STATES = {"ok", "present", "running", "installed", "true", "yes"}
MISSING_STATES = {"missing", "absent", "not_found", "notfound", "false", "no", "error"}


def _percent(**kwargs):
    return serializers.FloatField(min_value=0, max_value=100, **kwargs)


class CpuSerializer(StrictSerializer):
    cores = serializers.IntegerField(min_value=1, max_value=4096, required=False)
    usage = _percent()
    model = serializers.CharField(max_length=200, required=False, allow_blank=True)
    loadAverage = serializers.ListField(child=serializers.FloatField(min_value=0), max_length=3, required=False)


class MemorySerializer(StrictSerializer):
    total = SizeField()
    used = SizeField()
    free = SizeField(required=False)
    percent = _percent()

    def validate(self, attrs):
        if attrs["used"] > attrs["total"]:
            raise serializers.ValidationError({"used": ["Is larger than total."]})
        return attrs


class DiskSerializer(StrictSerializer):
    size = SizeField()
    used = SizeField()
    available = SizeField()
    percent = _percent()
    mount = serializers.CharField(max_length=200, required=False)


class AgentAlertSerializer(StrictSerializer):
    level = serializers.ChoiceField(["critical", "warning", "info"])
    type = serializers.CharField(max_length=64)
    message = serializers.CharField(max_length=500)
    value = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ServiceStateField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().lower()
        if value not in SERVICE_STATES:
            raise serializers.ValidationError(f"Unknown state {data!r}: use running or stopped.")
        return value


@extend_schema_field({"type": "string", "description": "ok, present, running… or missing, absent, error…"})
class ApplicationStateField(serializers.Field):
    def to_internal_value(self, data):
        text = str(data).strip().lower()
        if text in PRESENT_STATES:
            return True
        if text in MISSING_STATES:
            return False
        raise serializers.ValidationError(f"Unknown state {data!r}: use ok or missing.")

    def to_representation(self, value):
        return value


class MetricsPayload(StrictSerializer):
    siteId = serializers.RegexField(SITE_ID_RE, max_length=128)
    clubName = serializers.CharField(max_length=120, required=False, allow_blank=True)
    timestamp = TimestampField()
    hostname = serializers.CharField(max_length=120, required=False, allow_blank=True)
    uptime = serializers.FloatField(min_value=0, required=False)
    agentVersion = serializers.CharField(max_length=32, required=False, allow_blank=True)
    cpu = CpuSerializer()
    memory = MemorySerializer()
    temperature = serializers.FloatField(min_value=-60, max_value=150, required=False, allow_null=True)
    disk = DiskSerializer()
    network = serializers.DictField(required=False)
    services = serializers.DictField(child=ServiceStateField(max_length=32), required=False)
    application = serializers.DictField(child=ApplicationStateField(), required=False)
    alerts = serializers.ListField(child=AgentAlertSerializer(), max_length=100, required=False)


class HeartbeatPayload(StrictSerializer):
    siteId = serializers.RegexField(SITE_ID_RE, max_length=128)
    clubName = serializers.CharField(max_length=120, required=False, allow_blank=True)
    timestamp = TimestampField(required=False)
    agentVersion = serializers.CharField(max_length=32, required=False, allow_blank=True)
    uptime = serializers.FloatField(min_value=0, required=False)
