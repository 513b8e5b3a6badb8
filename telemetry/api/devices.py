"""Device formats in: Shelly (the seed's webhook and Gen2 status/notifications), ThingSet, foxBMS."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.views import APIView

from accounts.authentication import UrlKeyAuthentication
from core.api.parsers import FastJSONParser
from core.decoding import decode_text
from telemetry import services
from telemetry.adapters import AdapterError
from telemetry.adapters.foxbms import parse_candump
from telemetry.api.ingest import invalid_response, key_binding, stored_response
from telemetry.ingest import Invalid

MAX_TEXT_BODY = 8 * 1024 * 1024


class PlainTextParser(BaseParser):
    media_type = "text/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return decode_text(stream.read())


class AnyBodyParser(PlainTextParser):
    """Gateways post candump logs and ThingSet reports with whatever content type they have."""

    media_type = "*/*"


class ShellyWebhookView(APIView):
    """The seed's `/webhook/`: GET query string or POST JSON. Also takes Gen2 `Shelly.GetStatus`
    bodies and `NotifyStatus` / `NotifyFullStatus` frames. Devices cannot set headers, so the key
    goes in the URL: `/webhook/<key>/` (or `?key=`)."""

    authentication_classes = [UrlKeyAuthentication]
    parser_classes = [FastJSONParser]
    required_scope = "ingest"

    def _receive(self, request, data):
        try:
            stored = services.receive_shelly(
                data, device=request.query_params.get("device"), bound_to=key_binding(request)
            )
        except Invalid as exc:
            return invalid_response(exc)
        return stored_response(stored)

    @extend_schema(
        parameters=[OpenApiParameter(name, float) for name in ("power", "voltage", "current", "energy")]
        + [OpenApiParameter("device", description="The meter's device id, with a tenant-wide key")],
        summary="Shelly webhook (query string)",
    )
    def get(self, request, key: str = ""):
        data = {k: v for k, v in request.query_params.items() if k not in ("key", "device")}
        return self._receive(request, data)

    @extend_schema(request=dict, summary="Shelly webhook (JSON, Gen2 status or notification)")
    def post(self, request, key: str = ""):
        return self._receive(request, request.data)


class BatteryUploadView(APIView):
    """Text formats posted by gateways for one battery (`?battery=<id or serial>` with a tenant key)."""

    parser_classes = [FastJSONParser, PlainTextParser, AnyBodyParser]
    required_scope = "ingest"
    adapter_name = ""

    def receive(self, text: str, battery):
        raise NotImplementedError

    def post(self, request):
        body = request.data
        text = body if isinstance(body, str) else decode_text(request.body)  # JSON: checked by its parser
        try:
            battery = services.find_asset("battery", request.query_params.get("battery"), bound_to=key_binding(request))
            stored = self.receive(text, battery)
        except AdapterError as exc:
            return invalid_response(Invalid({exc.field: exc.reason}))
        except Invalid as exc:
            return invalid_response(exc)
        return stored_response(stored)


class ThingSetView(BatteryUploadView):
    @extend_schema(
        request=str,
        parameters=[OpenApiParameter("battery", description="id or serial, with a tenant-wide key")],
        summary="ThingSet reports (text mode v0.5/v0.6, or JSON) from a Libre Solar BMS",
    )
    def post(self, request):
        return super().post(request)

    def receive(self, text, battery):
        return services.receive_thingset(text=text, battery=battery)


class FoxBmsView(BatteryUploadView):
    @extend_schema(
        request=str,
        parameters=[OpenApiParameter("battery", description="id or serial, with a tenant-wide key")],
        summary="foxBMS CAN frames (candump log), decoded with the battery type's DBC",
    )
    def post(self, request):
        return super().post(request)

    def receive(self, text, battery):
        return services.store_reports("battery", battery, parse_candump(text, services.can_database_for(battery)))


webhook_urlpatterns = [
    path("webhook/", ShellyWebhookView.as_view(), name="shelly-webhook"),
    path("webhook/<str:key>/", ShellyWebhookView.as_view(), name="shelly-webhook-key"),
]
urlpatterns = [
    path("telemetry/shelly/<str:key>/", ShellyWebhookView.as_view(), name="telemetry-shelly"),
    path("telemetry/thingset", ThingSetView.as_view(), name="telemetry-thingset"),
    path("telemetry/foxbms", FoxBmsView.as_view(), name="telemetry-foxbms"),
]
