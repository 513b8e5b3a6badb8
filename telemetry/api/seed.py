"""The Shelly collector's API, kept as its users know it: `/api/measurements/` (paginated, newest
first, `?start=&end=`, optionally `?meter=`) and `/api/measurements/latest/` (the last ten)."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import DateTimeField
from core.moments import parse_moment
from telemetry.models import Meter, MeterReading


class MeasurementSerializer(serializers.Serializer):
    meter = serializers.SerializerMethodField()
    # A Shelly reports what it measures: any of these may be missing from a reading.
    power = serializers.FloatField(allow_null=True)
    voltage = serializers.FloatField(allow_null=True)
    current = serializers.FloatField(allow_null=True)
    energy = serializers.FloatField(source="energy_total_wh", allow_null=True)
    timestamp = DateTimeField(source="time")

    def get_meter(self, reading) -> str:
        return self.context["meters"].get(reading.asset_id, "")


def measurements(params):
    queryset = MeterReading.objects.order_by("-time", "asset_id")
    errors = {}
    for name, lookup in (("start", "time__gte"), ("end", "time__lte")):
        if params.get(name):
            try:
                queryset = queryset.filter(**{lookup: parse_moment(params[name])})
            except ValueError as exc:
                errors[name] = str(exc)
    if params.get("meter"):
        meter = Meter.objects.filter(device_id=params["meter"]).first()
        queryset = queryset.filter(asset_id=meter.pk if meter else 0)
    if errors:
        raise serializers.ValidationError(errors)
    return queryset


def meter_names() -> dict[int, str]:
    return dict(Meter.objects.values_list("pk", "device_id"))


PARAMETERS = [
    OpenApiParameter("start", description="ISO 8601"),
    OpenApiParameter("end", description="ISO 8601"),
    OpenApiParameter("meter", description="a meter's device id"),
]


class MeasurementListView(ListAPIView):
    serializer_class = MeasurementSerializer

    def get_queryset(self):
        return measurements(self.request.query_params)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "meters": meter_names()}

    @extend_schema(parameters=PARAMETERS, summary="Meter measurements, newest first (the Shelly collector's API)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LatestMeasurementsView(APIView):
    @extend_schema(parameters=PARAMETERS[2:], responses=MeasurementSerializer(many=True), summary="The last 10")
    def get(self, request):
        readings = measurements(request.query_params)[:10]
        return Response(MeasurementSerializer(readings, many=True, context={"meters": meter_names()}).data)


urlpatterns = [
    path("", MeasurementListView.as_view(), name="measurements"),
    path("latest/", LatestMeasurementsView.as_view(), name="measurements-latest"),
]
