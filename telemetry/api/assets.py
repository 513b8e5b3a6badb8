"""`/api/v1/telemetry/…`: the asset hierarchy (sites, types with custom fields, batteries, meters)."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from rest_framework import filters, routers, serializers, viewsets

from core.api.parsers import CheckedMultiPartParser, FastJSONParser
from core.api.serializers import ModelSerializer
from core.http import client_ip
from sites import selectors as sites_selectors
from sites import services as sites_services
from sites.serializers import SiteSerializer
from telemetry import configuration, selectors, services
from telemetry.adapters import AdapterError
from telemetry.adapters.foxbms import dbc_text
from telemetry.models import AssetType, Battery, Meter


def _as_drf(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class AssetTypeSerializer(ModelSerializer):
    can_database = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="The foxBMS DBC as text (blank removes it)."
    )
    can_database_file = serializers.FileField(
        write_only=True, required=False, help_text="The foxBMS DBC as a file (multipart/form-data)."
    )
    has_can_database = serializers.SerializerMethodField(help_text="Whether the type has a DBC to decode CAN frames.")

    class Meta:
        model = AssetType
        fields = ["id", "name", "kind", "description", "custom_fields", "can_database", "can_database_file",
                  "has_can_database"]  # fmt: skip

    def get_has_can_database(self, asset_type) -> bool:
        return bool(asset_type.can_database.strip())

    def validate_custom_fields(self, value):
        try:
            return services.validate_custom_fields(value)
        except DjangoValidationError as exc:
            raise _as_drf(exc) from None

    def validate_can_database(self, value):
        if value.strip():
            self._check_dbc(value.encode("utf-8"))
        return value

    def validate_can_database_file(self, upload):
        return self._check_dbc(upload.read())

    @staticmethod
    def _check_dbc(data: bytes) -> str:
        try:
            return dbc_text(data)
        except AdapterError as exc:
            raise serializers.ValidationError(exc.reason) from None

    def validate(self, attrs):
        text = attrs.pop("can_database_file", None)
        if text is not None:
            attrs["can_database"] = text
        return attrs


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


class ThresholdsField(serializers.DictField):
    """This asset's own alert thresholds by alert type, e.g. {"cell_overvoltage": 3.65}; null clears one."""

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        super().__init__(child=serializers.FloatField(allow_null=True), required=False, **kwargs)

    def get_attribute(self, instance):
        return services.asset_thresholds(self.kind, instance)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        unknown = sorted(set(values) - set(services.THRESHOLD_TYPES[self.kind]))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown: {', '.join(unknown)}; known: {', '.join(services.THRESHOLD_TYPES[self.kind])}."
            )
        return values


class BatterySerializer(CustomValuesMixin, ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=sites_selectors.sites())
    thresholds = ThresholdsField("battery")

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
            "silent_after_minutes",
            "custom_values",
            "thresholds",
            "thingset_items",
        ]
        read_only_fields = ["thingset_items"]

    def validate_type(self, value):
        if value.kind != "battery":
            raise serializers.ValidationError("This type is for meters, not batteries.")
        return value


class MeterSerializer(CustomValuesMixin, ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=sites_selectors.sites())

    class Meta:
        model = Meter
        fields = [
            "id",
            "site",
            "type",
            "name",
            "device_id",
            "model",
            "power_alert_threshold",
            "silent_after_minutes",
            "custom_values",
        ]


class StateFilterMixin(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[(state, state) for state in selectors.ASSET_STATES], method="filter_state", label="state"
    )

    def filter_state(self, queryset, name, value):
        return selectors.filter_by_state(queryset, value)


class BatteryFilter(StateFilterMixin):
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Battery
        fields = ["site", "type", "chemistry", "connector", "state"]


class MeterFilter(StateFilterMixin):
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Meter
        fields = ["site", "type", "model", "state"]


class ConfigurationWrites:
    """Creates, updates and deletes through `telemetry.configuration`, so that each is audited: the
    serializer validates, the instance is filled as ModelSerializer would, the service stores it."""

    def filled(self, serializer) -> tuple[object, dict]:
        """The instance with the validated fields set, and the fields that are not the model's."""
        data = dict(serializer.validated_data)
        extra = {name: data.pop(name) for name in ("thresholds",) if name in data}
        instance = serializer.instance or serializer.Meta.model()
        for name, value in data.items():
            setattr(instance, name, value)
        return instance, extra

    def perform_create(self, serializer):
        serializer.instance = self.store(
            *self.filled(serializer), by=self.request.user, ip_address=client_ip(self.request)
        )

    perform_update = perform_create


class SiteViewSet(ConfigurationWrites, viewsets.ModelViewSet):
    queryset = sites_selectors.sites()
    serializer_class = SiteSerializer
    filter_backends = [filters.SearchFilter]
    search_fields = ["name", "code", "address"]

    def store(self, site, _extra, **who):
        return sites_services.site_save(site=site, **who)

    def perform_destroy(self, instance):
        sites_services.site_delete(site=instance, by=self.request.user, ip_address=client_ip(self.request))


class AssetTypeViewSet(ConfigurationWrites, viewsets.ModelViewSet):
    queryset = AssetType.objects.all()
    serializer_class = AssetTypeSerializer
    parser_classes = [FastJSONParser, CheckedMultiPartParser]  # the DBC comes as a file
    filterset_fields = ["kind"]

    def store(self, asset_type, _extra, **who):
        return configuration.asset_type_save(asset_type=asset_type, **who)

    def perform_destroy(self, instance):
        configuration.asset_type_delete(asset_type=instance, by=self.request.user, ip_address=client_ip(self.request))


class AssetWrites(ConfigurationWrites):
    kind = ""

    def store(self, asset, extra, **who):
        return configuration.asset_save(kind=self.kind, asset=asset, thresholds=extra.get("thresholds"), **who)

    def perform_destroy(self, instance):
        configuration.asset_delete(
            kind=self.kind, asset=instance, by=self.request.user, ip_address=client_ip(self.request)
        )


class BatteryViewSet(AssetWrites, viewsets.ModelViewSet):
    kind = "battery"
    queryset = Battery.objects.select_related("site", "type")
    serializer_class = BatterySerializer
    filterset_class = BatteryFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.SearchFilter]
    search_fields = ["name", "serial", "site__name"]


class MeterViewSet(AssetWrites, viewsets.ModelViewSet):
    kind = "meter"
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
