"""`/api/v1/telemetry/…`: the asset hierarchy (sites, types with custom fields, batteries, meters)."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from rest_framework import filters, routers, serializers, viewsets

from telemetry import services
from telemetry.models import AssetType, Battery, Meter, Site


def _as_drf(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "code", "time_zone", "address", "latitude", "longitude"]


class AssetTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssetType
        fields = ["id", "name", "kind", "description", "custom_fields"]

    def validate_custom_fields(self, value):
        try:
            return services.validate_custom_fields(value)
        except DjangoValidationError as exc:
            raise _as_drf(exc) from None


class CustomValuesMixin:
    def validate(self, attrs):
        asset_type = attrs.get("type", getattr(self.instance, "type", None))
        values = attrs.get("custom_values", getattr(self.instance, "custom_values", {}))
        if asset_type is not None:
            try:
                attrs["custom_values"] = services.validate_custom_values(asset_type, values)
            except DjangoValidationError as exc:
                raise _as_drf(exc) from None
        return attrs


class BatterySerializer(CustomValuesMixin, serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())

    class Meta:
        model = Battery
        fields = [
            "id",
            "site",
            "type",
            "name",
            "serial",
            "chemistry",
            "nominal_voltage",
            "capacity_ah",
            "capacity_kwh",
            "cell_count",
            "connector",
            "custom_values",
        ]

    def validate_type(self, value):
        if value.kind != "battery":
            raise serializers.ValidationError("This type is for meters, not batteries.")
        return value


class MeterSerializer(CustomValuesMixin, serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())

    class Meta:
        model = Meter
        fields = ["id", "site", "type", "name", "device_id", "model", "power_alert_threshold", "custom_values"]


class BatteryFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Battery
        fields = ["site", "type", "chemistry", "connector"]


class MeterFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Meter
        fields = ["site", "type", "model"]


class SiteViewSet(viewsets.ModelViewSet):
    queryset = Site.objects.all()
    serializer_class = SiteSerializer
    filter_backends = [filters.SearchFilter]
    search_fields = ["name", "code", "address"]


class AssetTypeViewSet(viewsets.ModelViewSet):
    queryset = AssetType.objects.all()
    serializer_class = AssetTypeSerializer
    filterset_fields = ["kind"]


class BatteryViewSet(viewsets.ModelViewSet):
    queryset = Battery.objects.select_related("site", "type")
    serializer_class = BatterySerializer
    filterset_class = BatteryFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter]
    search_fields = ["name", "serial", "site__name"]


class MeterViewSet(viewsets.ModelViewSet):
    queryset = Meter.objects.select_related("site", "type")
    serializer_class = MeterSerializer
    filterset_class = MeterFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter]
    search_fields = ["name", "device_id", "site__name"]


router = routers.SimpleRouter(trailing_slash=True)
router.register("sites", SiteViewSet)
router.register("types", AssetTypeViewSet)
router.register("batteries", BatteryViewSet)
router.register("meters", MeterViewSet)

urlpatterns = [path("telemetry/", include(router.urls))]
