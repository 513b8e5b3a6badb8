"""Fleet API: the agent's ingestion endpoints and the customer's read API, in its shapes."""

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import IsTenantAdminUser
from accounts.authentication import ApiKeyPrincipal
from core.api.fields import TimestampField
from fleet import selectors, services
from fleet.models import Device, DeviceStatus
from fleet.payloads import HeartbeatPayload, MetricsPayload


class SiteMetricsSerializer(serializers.Serializer):
    cpu = serializers.FloatField(allow_null=True)
    memory = serializers.FloatField(allow_null=True)
    temperature = serializers.FloatField(allow_null=True)
    disk = serializers.FloatField(allow_null=True)


class FleetSiteSerializer(serializers.Serializer):
    """A device's site as `selectors.site_summary` gives it (the customer's dashboard shape)."""

    siteId = serializers.CharField()
    clubName = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(DeviceStatus.choices)
    statusLabel = serializers.CharField()
    isNew = serializers.BooleanField()
    lastSeen = serializers.DateTimeField(allow_null=True)
    lastMetrics = serializers.DateTimeField(allow_null=True)
    agentVersion = serializers.CharField()
    metrics = SiteMetricsSerializer()
    alerts = serializers.IntegerField(help_text="Open alerts of this site.")


class FleetAlertSerializer(serializers.Serializer):
    """An alert of a device as `selectors.alert_summary` gives it."""

    id = serializers.IntegerField()
    siteId = serializers.CharField()
    clubName = serializers.CharField()
    level = serializers.CharField()
    levelLabel = serializers.CharField()
    type = serializers.CharField()
    message = serializers.CharField()
    value = serializers.CharField()
    status = serializers.CharField()
    firstSeen = serializers.DateTimeField()
    lastSeen = serializers.DateTimeField()
    count = serializers.IntegerField()


class FleetSiteDetailSerializer(FleetSiteSerializer):
    latest = serializers.DictField(allow_null=True, help_text="The last metrics report, as stored.")
    services = serializers.DictField()
    application = serializers.DictField()
    openAlerts = FleetAlertSerializer(many=True)


def _validated_report(request, payload_class) -> dict:
    """The validated payload; the device it speaks for is resolved with the report, all or nothing."""
    if not isinstance(request.user, ApiKeyPrincipal):
        raise PermissionDenied("Devices report with an API key that has the 'ingest' scope.")
    payload = payload_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class MetricsView(APIView):
    required_scope = "ingest"

    @extend_schema(request=MetricsPayload, summary="Receive a device's metrics report (the agent, every 5 min)")
    def post(self, request):
        data = _validated_report(request, MetricsPayload)
        device, registered, snapshot = services.receive_metrics(key=request.auth, data=data, raw=request.data)
        body = {
            "status": "stored" if snapshot else "duplicate",
            "siteId": device.external_id,
            "registered": registered,
            "deviceStatus": device.status,
        }
        return Response(body, status=status.HTTP_201_CREATED if snapshot else status.HTTP_200_OK)


class HeartbeatView(APIView):
    required_scope = "ingest"

    @extend_schema(request=HeartbeatPayload, summary="Receive a device's heartbeat (the agent, every 30 s)")
    def post(self, request):
        data = _validated_report(request, HeartbeatPayload)
        device, registered = services.receive_heartbeat(key=request.auth, data=data)
        return Response(
            {
                "status": "ok",
                "siteId": device.external_id,
                "registered": registered,
                "serverTime": timezone.now().isoformat(),
            }
        )


class SitesView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=DeviceStatus.values),
            OpenApiParameter("site"),
            OpenApiParameter("search"),
        ],
        responses=FleetSiteSerializer(many=True),
    )
    def get(self, request):
        return Response(
            selectors.sites_list(
                status=request.query_params.get("status", ""),
                site=request.query_params.get("site", ""),
                search=request.query_params.get("search", ""),
            )
        )


def _device(site_id: str) -> Device:
    return get_object_or_404(Device.objects.select_related("site"), external_id=site_id)


class SiteDetailView(APIView):
    @extend_schema(responses=FleetSiteDetailSerializer)
    def get(self, request, site_id: str):
        return Response(selectors.site_detail(_device(site_id)))


class HistoryQuery(serializers.Serializer):
    start = TimestampField(required=False, bounded=False)
    end = TimestampField(required=False, bounded=False)
    points = serializers.IntegerField(min_value=2, max_value=5000, required=False, default=200)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": ["Must come after start."]})
        return attrs


class SiteHistoryView(APIView):
    @extend_schema(parameters=[OpenApiParameter("start"), OpenApiParameter("end"), OpenApiParameter("points", int)])
    def get(self, request, site_id: str):
        device = _device(site_id)
        query = HistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.history(device, **query.validated_data))


class AverageMetricsSerializer(serializers.Serializer):
    temperature = serializers.CharField(allow_null=True, help_text="°C, one decimal")
    cpu = serializers.CharField(allow_null=True, help_text="%, one decimal")
    memory = serializers.CharField(allow_null=True, help_text="%, one decimal")
    disk = serializers.CharField(allow_null=True, help_text="%, one decimal")


class StatsSerializer(serializers.Serializer):
    totalSites = serializers.IntegerField()
    activeSites = serializers.IntegerField(help_text="Devices neither warning, critical nor offline (new included).")
    warningsSites = serializers.IntegerField()
    criticalSites = serializers.IntegerField()
    offlineSites = serializers.IntegerField()
    newSites = serializers.IntegerField(help_text="Registered automatically, not reviewed yet (whatever their status).")
    totalAlerts = serializers.IntegerField(help_text="Open device alerts, the agent's own included.")
    criticalAlerts = serializers.IntegerField()
    averageMetrics = AverageMetricsSerializer()


class StatsView(APIView):
    @extend_schema(
        responses=StatsSerializer,
        summary="The fleet's figures, in the shape of the customer's /api/stats",
        description=(
            "The four statuses partition the fleet: totalSites = activeSites + warningsSites + criticalSites + "
            "offlineSites, as in the customer's example (25 = 23 + 1 + 1 + 0). averageMetrics averages the "
            "latest report of each device that is not offline, so every device counts once however often it "
            "reports; null when no such device has reported."
        ),
    )
    def get(self, request):
        return Response(selectors.stats())


class FleetAlertsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("all", bool, description="include resolved alerts")],
        responses=FleetAlertSerializer(many=True),
    )
    def get(self, request):
        return Response(selectors.fleet_alerts(include_resolved=request.query_params.get("all") in ("1", "true")))


class DeviceKeyView(APIView):
    permission_classes = [IsTenantAdminUser]

    @extend_schema(summary="Issue the device its own ingest key (revokes its previous one)")
    def post(self, request, site_id: str):
        device = _device(site_id)
        token = services.issue_device_key(device=device, by=request.user)
        return Response({"siteId": device.external_id, "key": token}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("fleet/metrics", MetricsView.as_view(), name="fleet-metrics"),
    path("fleet/heartbeat", HeartbeatView.as_view(), name="fleet-heartbeat"),
    path("fleet/sites", SitesView.as_view(), name="fleet-sites"),
    path("fleet/sites/<str:site_id>", SiteDetailView.as_view(), name="fleet-site"),
    path("fleet/sites/<str:site_id>/history", SiteHistoryView.as_view(), name="fleet-site-history"),
    path("fleet/stats", StatsView.as_view(), name="fleet-stats"),
    path("fleet/alerts", FleetAlertsView.as_view(), name="fleet-alerts"),
    path("fleet/devices/<str:site_id>/key", DeviceKeyView.as_view(), name="fleet-device-key"),
]
