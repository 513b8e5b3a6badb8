"""Readings in: the generic batch endpoint (devices, gateways, integrators)."""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.authentication import ApiKeyPrincipal
from core.api.parsers import FastJSONParser, json_body
from telemetry import schemas, services
from telemetry.validation import Invalid


def key_binding(request) -> str:
    """What the calling key may report for (`battery:12`), or "" for a tenant-wide key or a person."""
    return request.auth.bound_to if isinstance(request.user, ApiKeyPrincipal) else ""


def invalid_response(exc: Invalid) -> Response:
    return Response(
        {
            "error": "invalid",
            "detail": "Nothing was stored: fix the fields below and send the batch again.",
            "fields": exc.fields,
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def stored_response(stored) -> Response:
    return Response(
        {"received": stored.received, "stored": stored.stored, "duplicates": stored.duplicates},
        status=status.HTTP_201_CREATED if stored.stored else status.HTTP_200_OK,
    )


class ReadingSerializer(serializers.Serializer):
    asset = serializers.JSONField(help_text="The asset's id (number) or its serial / device id (text).")
    time = serializers.JSONField(help_text="ISO 8601, unix seconds or unix milliseconds.")
    values = serializers.DictField(help_text='Metric → value, e.g. {"voltage": 51.2, "soc": 87}.')


class ReadingBatchSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["battery", "meter"], default="battery")
    readings = ReadingSerializer(many=True)


class ReadingsView(APIView):
    required_scope = "ingest"
    parser_classes = [FastJSONParser]

    @extend_schema(
        request=ReadingBatchSerializer,
        summary="Store a batch of readings (up to 10,000), all or nothing, idempotent on (asset, time)",
        examples=[
            OpenApiExample(
                "Battery readings",
                value={
                    "kind": "battery",
                    "readings": [
                        {
                            "asset": "NB-0001",
                            "time": "2026-11-24T10:00:00Z",
                            "values": {"voltage": 51.2, "current": -12.5, "soc": 87, "cell_voltages": [3.2, 3.21]},
                        }
                    ],
                },
            )
        ],
    )
    def post(self, request):
        binding = key_binding(request)
        try:
            kind, items = schemas.decode_batch(json_body(request))
            return stored_response(services.ingest_decoded(kind=kind, items=items, bound_to=binding))
        except schemas.DoesNotFit:
            pass  # the detailed path below names every problem
        data = request.data
        if type(data) is list:
            kind, items = "battery", data
        elif type(data) is dict:
            kind, items = data.get("kind", "battery"), data.get("readings")
        else:
            return invalid_response(Invalid({"readings": "Send an object {kind, readings: [...]}."}))
        try:
            stored = services.ingest_readings(kind=kind, items=items, bound_to=binding)
        except Invalid as exc:
            return invalid_response(exc)
        return stored_response(stored)


urlpatterns = [path("telemetry/readings", ReadingsView.as_view(), name="telemetry-readings")]
