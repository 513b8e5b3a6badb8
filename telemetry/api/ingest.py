"""Readings in: the generic batch endpoint (devices, gateways, integrators)."""

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyPrincipal
from core.api.errors import error_body
from core.api.parsers import FastJSONParser, json_body
from telemetry import services
from telemetry.ingest import MAX_ERRORS, Conflicting, Invalid, OnConflict, schemas


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


def _sent_asset(item):
    return item.get("asset") if type(item) is dict else item.asset


def conflict_list(conflicts, items=None) -> list[dict]:
    """Each conflicting reading: its position in the batch, its asset as the batch named it (the
    asset's id when the caller has no batch to quote) and its time."""
    return [
        {
            "index": conflict.index,
            "asset": conflict.asset_id if items is None else _sent_asset(items[conflict.index]),
            "time": conflict.time.isoformat().replace("+00:00", "Z"),
        }
        for conflict in conflicts
    ]


def stored_response(stored, items=None, on_conflict: OnConflict = OnConflict.REJECT) -> Response:
    body = {"received": stored.received, "stored": stored.stored, "duplicates": stored.duplicates}
    if on_conflict == OnConflict.UPDATE:
        body["updated"] = stored.updated
    if stored.conflicts or on_conflict == OnConflict.SKIP:
        body["conflicts"] = conflict_list(stored.conflicts, items)
    written = stored.stored or stored.updated
    return Response(body, status=status.HTTP_201_CREATED if written else status.HTTP_200_OK)


def conflict_response(exc: Conflicting, items) -> Response:
    count = len(exc.conflicts)
    detail = ngettext(
        "Nothing was stored: %(count)s reading differs from the one stored for its asset at its time. "
        "Send the batch again with ?on_conflict=update to replace it, or ?on_conflict=skip to keep it.",
        "Nothing was stored: %(count)s readings differ from the ones stored for their asset at their time. "
        "Send the batch again with ?on_conflict=update to replace them, or ?on_conflict=skip to keep them.",
        count,
    ) % {"count": count}
    reason = _("Differs from the reading stored for this asset at this time.")
    fields = {f"readings[{conflict.index}]": reason for conflict in exc.conflicts[:MAX_ERRORS]}
    return Response(
        error_body("conflict", detail, fields, conflicts=conflict_list(exc.conflicts, items)),
        status=status.HTTP_409_CONFLICT,
    )


def on_conflict_of(request) -> OnConflict:
    value = request.query_params.get("on_conflict", OnConflict.REJECT)
    try:
        return OnConflict(value)
    except ValueError:
        choices = ", ".join(OnConflict)
        raise Invalid({"on_conflict": _("Expected one of: %(choices)s.") % {"choices": choices}}) from None


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
        description=(
            "A reading whose asset and time are stored already is a **duplicate** when its values are "
            "the stored ones (a re-sent batch: nothing is written, it counts in `duplicates`), and a "
            "**conflict** when they differ. By default a batch with a conflict stores nothing and answers "
            '409 `{"error": "conflict", "detail", "fields", "conflicts": [{"index", "asset", "time"}]}`, '
            "listing every conflicting reading by its position in `readings`. "
            "`?on_conflict=update` replaces the stored readings with the ones sent (metrics a reading "
            "does not carry are cleared; rollups and Kafka events follow) and counts them in `updated`; "
            "`?on_conflict=skip` keeps the stored readings, stores the others and lists the conflicts "
            "in the 200/201 body. `received` = `stored` + `updated` + `duplicates` + conflicts kept. "
            "A reading repeated within one batch is stored once (the first) and counts as a duplicate."
        ),
        parameters=[
            OpenApiParameter(
                "on_conflict",
                enum=[choice.value for choice in OnConflict],
                default=OnConflict.REJECT.value,
                description="What to do with readings that differ from the ones stored at the same asset "
                "and time: reject the batch (409), update (replace them) or skip (keep the stored ones).",
            )
        ],
        responses={
            201: OpenApiResponse(description="Something was stored or replaced."),
            200: OpenApiResponse(description="Nothing new: every reading was a duplicate (or a skipped conflict)."),
            400: OpenApiResponse(description="Invalid batch: nothing was stored; `fields` names every problem."),
            409: OpenApiResponse(description="Readings differ from the stored ones: nothing was stored."),
        },
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
            on_conflict = on_conflict_of(request)
        except Invalid as exc:
            return invalid_response(exc)
        try:
            kind, items = schemas.decode_batch(json_body(request))
            stored = services.ingest_decoded(kind=kind, items=items, bound_to=binding, on_conflict=on_conflict)
            return stored_response(stored, items, on_conflict)
        except schemas.DoesNotFit:
            pass  # the detailed path below names every problem
        except Conflicting as exc:
            return conflict_response(exc, items)
        data = request.data
        if type(data) is list:
            kind, items = "battery", data
        elif type(data) is dict:
            kind, items = data.get("kind", "battery"), data.get("readings")
        else:
            return invalid_response(Invalid({"readings": "Send an object {kind, readings: [...]}."}))
        try:
            stored = services.ingest_readings(kind=kind, items=items, bound_to=binding, on_conflict=on_conflict)
        except Invalid as exc:
            return invalid_response(exc)
        except Conflicting as exc:
            return conflict_response(exc, items)
        return stored_response(stored, items, on_conflict)


urlpatterns = [path("telemetry/readings", ReadingsView.as_view(), name="telemetry-readings")]
