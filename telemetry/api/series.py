"""Readings out: time series, latest values and their exports (CSV, Excel, PDF)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from django.http import HttpResponse
from django.urls import path, re_path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import exports
from core.api.errors import error_body
from core.moments import parse_moment
from telemetry import series as timeseries
from telemetry.ingest import Invalid
from telemetry.listing import asset_list_table, kind_named
from telemetry.metrics import METRIC_BY_NAME
from telemetry.models import AssetKind
from telemetry.rollups import tenant_time_zone
from telemetry.selectors import REF_FIELDS, asset_model

DEFAULT_METRICS = {"battery": ["voltage", "current", "soc", "temperature"], "meter": ["power"]}
DEFAULT_SPAN = timedelta(hours=24)


def invalid_response(exc: Invalid) -> Response:
    """A read that cannot be answered: unlike ingestion's, nothing was to be stored."""
    detail = _("Fix the parameters named below and ask again.")
    return Response(error_body("invalid", detail, exc.fields), status=status.HTTP_400_BAD_REQUEST)


def parse_assets(text: str) -> list[tuple[str, object]]:
    """`battery:12,meter:SHELLY-ID` → [(kind, asset)], each looked up in this tenant only."""
    refs = [part.strip() for part in text.split(",") if part.strip()]
    if not refs:
        raise Invalid({"assets": "Name at least one asset, e.g. assets=battery:12,meter:3."})
    found = []
    for ref in refs[:50]:
        kind, _sep, ident = ref.partition(":")
        if kind not in DEFAULT_METRICS or not ident:
            raise Invalid({"assets": f"“{ref}”: write kind:id, with kind battery or meter."})
        model = asset_model(kind)
        lookup = {"pk": int(ident)} if ident.isdigit() else {REF_FIELDS[kind]: ident}
        asset = model.objects.filter(**lookup).first()
        if asset is None:
            raise Invalid({"assets": f"No {kind} “{ident}” here."})
        found.append((kind, asset))
    return found


def parse_query(params) -> dict:
    errors = {}
    try:
        assets = parse_assets(params.get("assets", ""))
    except Invalid as exc:
        errors.update(exc.fields)
        assets = []
    kinds = {kind for kind, _asset in assets}
    metrics = [m.strip() for m in params.get("metrics", "").split(",") if m.strip()]
    if not metrics:
        metrics = list(dict.fromkeys(m for kind in sorted(kinds) for m in DEFAULT_METRICS[kind]))
    unknown = [m for m in metrics if not any(m in METRIC_BY_NAME[kind] for kind in kinds or DEFAULT_METRICS)]
    if unknown:
        errors["metrics"] = f"Unknown metric(s): {', '.join(unknown)}."
    moments = {}
    for name in ("end", "start"):
        raw = params.get(name)
        if raw:
            try:
                moments[name] = parse_moment(raw)
            except ValueError as exc:
                errors[name] = str(exc)
    end = moments.get("end") or timezone.now()
    start = moments.get("start") or end - DEFAULT_SPAN
    if start >= end:
        errors["start"] = "Must come before end."
    elif end - start > timeseries.MAX_SPAN:
        errors["start"] = "Ask for at most ten years at once."
    interval = params.get("interval", "auto")
    if interval not in timeseries.INTERVALS:
        errors["interval"] = f"One of: {', '.join(timeseries.INTERVALS)}."
    agg = params.get("agg", "avg")
    if agg not in timeseries.AGGREGATES:
        errors["agg"] = f"One of: {', '.join(timeseries.AGGREGATES)}."
    tz = params.get("tz") or tenant_time_zone()
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors["tz"] = "Give an IANA time zone such as Europe/Paris or America/Montreal."
    if errors:
        raise Invalid(errors)
    return {
        "assets": assets,
        "metrics": metrics,
        "start": start,
        "end": end,
        "interval": interval,
        "agg": agg,
        "tz": tz,
    }


def run_query(params) -> tuple[dict, str, list]:
    query = parse_query(params)
    try:
        interval, found = timeseries.series(**query)
    except timeseries.TooManyPoints as exc:
        raise Invalid({"interval": str(exc)}) from None
    return query, interval, found


SERIES_PARAMETERS = [
    OpenApiParameter("assets", description="battery:12,meter:3 (ids, serials or device ids)", required=True),
    OpenApiParameter("metrics", description="voltage,soc,… (defaults depend on the kind)"),
    OpenApiParameter("start", description="ISO 8601 or unix time (default: end − 24 h)"),
    OpenApiParameter("end", description="ISO 8601 or unix time (default: now)"),
    OpenApiParameter("interval", enum=list(timeseries.INTERVALS)),
    OpenApiParameter("agg", enum=list(timeseries.AGGREGATES)),
    OpenApiParameter("tz", description="IANA time zone of the returned times and daily buckets"),
]


class AssetRefSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(AssetKind.choices)
    id = serializers.IntegerField()
    name = serializers.CharField()


class LatestReadingSerializer(serializers.Serializer):
    asset = AssetRefSerializer()
    time = serializers.DateTimeField(allow_null=True, help_text="null: no reading yet.")
    values = serializers.DictField(help_text="Metric → value of that reading.")


# The exports answer a file in the format the path names; their errors are JSON like all others.
EXPORT_RESPONSES = {
    (200, content_type.partition(";")[0]): OpenApiTypes.BINARY for content_type, _ext in exports.EXPORT_FORMATS.values()
}


class SeriesView(APIView):
    @extend_schema(parameters=SERIES_PARAMETERS, summary="Time series of one or many assets")
    def get(self, request):
        try:
            query = parse_query(request.query_params)
            interval, found = timeseries.series(**query, as_json=True)
        except Invalid as exc:
            return invalid_response(exc)
        except timeseries.TooManyPoints as exc:
            return invalid_response(Invalid({"interval": str(exc)}))
        zone = ZoneInfo(query["tz"])
        envelope = {
            "interval": interval,
            "agg": query["agg"] if interval != "raw" else None,
            "tz": query["tz"],
            "start": query["start"].astimezone(zone).isoformat(),
            "end": query["end"].astimezone(zone).isoformat(),
        }
        # Each series' points arrive as one JSON array built by PostgreSQL: passed through as they are.
        parts = [
            orjson.dumps({"asset": {"kind": s.kind, "id": s.asset_id, "name": s.asset_name}, "metric": s.metric,
                          "unit": s.unit})[:-1] + b',"points":' + s.points.encode() + b"}"
            for s in found
        ]  # fmt: skip
        body = orjson.dumps(envelope)[:-1] + b',"series":[' + b",".join(parts) + b"]}"
        return HttpResponse(body, content_type="application/json")


class LatestView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("assets", description="battery:12,meter:3", required=True)],
        summary="The last reading of each asset",
        responses=LatestReadingSerializer(many=True),
    )
    def get(self, request):
        try:
            assets = parse_assets(request.query_params.get("assets", ""))
        except Invalid as exc:
            return invalid_response(exc)
        body = []
        for kind, asset in assets:
            last = timeseries.latest(kind, [asset.pk]).get(asset.pk)
            body.append(
                {
                    "asset": {"kind": kind, "id": asset.pk, "name": asset.name},
                    "time": last["time"].isoformat() if last else None,
                    "values": last["values"] if last else {},
                }
            )
        return Response(body)


def series_table(query: dict, interval: str, found: list) -> exports.Table:
    """All series side by side: one row per time, one column per (asset, metric)."""
    columns = [exports.Column("time", "Time", kind="datetime")]
    by_time: dict[datetime, list] = {}
    for index, s in enumerate(found):
        columns.append(exports.Column(f"c{index}", f"{s.asset_name} — {s.metric}", unit=s.unit, kind="number"))
        for moment, value in s.points:
            by_time.setdefault(datetime.fromisoformat(moment), [None] * len(found))[index] = value
    zone = ZoneInfo(query["tz"])
    label = "raw readings" if interval == "raw" else f"{interval} {query['agg']}"
    return exports.Table(
        title=f"{', '.join(dict.fromkeys(s.asset_name for s in found)) or 'Series'} ({label})",
        subtitle=f"{query['start'].astimezone(zone):%Y-%m-%d %H:%M} → {query['end'].astimezone(zone):%Y-%m-%d %H:%M}, "
        f"{query['tz']}",
        columns=columns,
        rows=[(moment, *values) for moment, values in sorted(by_time.items())],
        summary=[("Interval", label), ("Series", str(len(found))), ("Rows", str(len(by_time)))],
        time_zone=query["tz"],
    )


def export_response(table: exports.Table, fmt: str, filename: str, chart=None, *, request=None):
    return exports.download(table, fmt, filename, request=request, chart=chart)


class SeriesExportView(APIView):
    @extend_schema(
        parameters=SERIES_PARAMETERS,
        summary="Export time series as CSV, Excel or a PDF report",
        responses=EXPORT_RESPONSES,
    )
    def get(self, request, fmt: str):
        try:
            query, interval, found = run_query(request.query_params)
        except Invalid as exc:
            return invalid_response(exc)
        chart = exports.Chart(
            series=[
                (f"{s.asset_name} {s.metric}", [(datetime.fromisoformat(t), v) for t, v in s.points]) for s in found
            ],
            unit=", ".join(dict.fromkeys(s.unit for s in found if s.unit)),
        )
        stamp = query["end"].astimezone(ZoneInfo(query["tz"])).strftime("%Y%m%d-%H%M")
        return export_response(
            series_table(query, interval, found), fmt, f"voltwatch-series-{stamp}", chart=chart, request=request
        )


class AssetListExportView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter(name) for name in ("site", "type", "chemistry", "state", "search")],
        summary="Export the battery or meter list, with each asset's latest values (CSV, Excel, PDF)",
        responses=EXPORT_RESPONSES,
    )
    def get(self, request, kind: str, fmt: str):
        found = kind_named(kind)
        table = asset_list_table(found, request.query_params, request.tenant.timezone)
        return export_response(table, fmt, f"voltwatch-{found.section}", request=request)


urlpatterns = [
    path("telemetry/series", SeriesView.as_view(), name="telemetry-series"),
    re_path(
        r"^telemetry/series/export/(?P<fmt>csv|xlsx|pdf)$", SeriesExportView.as_view(), name="telemetry-series-export"
    ),
    path("telemetry/latest", LatestView.as_view(), name="telemetry-latest"),
    re_path(
        r"^telemetry/(?P<kind>battery|meter)-list/export/(?P<fmt>csv|xlsx|pdf)$",
        AssetListExportView.as_view(),
        name="telemetry-list-export",
    ),
]
