"""`GET /api/v1/charging/analyses/<name>`: the 13 analyses, one endpoint each (filters as query
parameters), with the headline figures as named fields, then the tables, charts and notes. The
answer is the one the portal's tab shows, cached per tenant, data generation and filter set."""

import orjson
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from charging import selectors
from charging.analyses import NAMES, analysis
from charging.cache import cached_json, json_default
from charging.filters import PERIODS, Filters, InvalidFilter, parse_filters
from core.api.errors import error_body
from core.api.schema import ErrorSerializer

FILTER_PARAMETERS = [
    OpenApiParameter("sites", description="Site codes, comma-separated (none: every site)."),
    OpenApiParameter("period", enum=list(PERIODS), description="day, month (default), yesterday, week, all, range."),
    OpenApiParameter(
        "d1", OpenApiTypes.DATE, description="The day (day), a day of the month (month), the start (range)."
    ),
    OpenApiParameter("d2", OpenApiTypes.DATE, description="The last day, included (range)."),
    OpenApiParameter("types", description="EVI, DownStream (comma-separated; none: both)."),
    OpenApiParameter(
        "moments",
        description="Init, Lock Connector, CableCheck, Charge, Fin de charge, or the shortcuts Avant charge, "
        "Charge, Fin de charge (comma-separated; none: every moment).",
    ),
]


def request_filters(params, extra: tuple[str, ...] = ()) -> Filters:
    """The filters of a request (the pages use the same), or InvalidFilter."""
    return parse_filters(params, bounds=selectors.data_bounds(), site_ids_by_code=selectors.site_ids_by_code(),
                         extra=extra)  # fmt: skip


def invalid_filters(error: InvalidFilter) -> Response:
    return Response(
        error_body("invalid", _("Fix the filters named below and ask again."), error.fields),
        status=status.HTTP_400_BAD_REQUEST,
    )


def answer_meta(name: str, filters: Filters) -> dict:
    state = selectors.freshness()
    return {
        "analysis": name,
        "filters": {**filters.as_query(), "d1": filters.d1, "d2": filters.d2},
        "data_as_of": state["data_as_of"],
        "sources": [
            {key: source[key] for key in ("id", "name", "last_success_at", "unreachable_since", "last_error")}
            for source in state["sources"]
        ],
    }


def analysis_body(name: str, filters: Filters) -> bytes:
    """The answer's bytes: where it stands (not cached: freshness changes without new data), then
    the cached analysis."""
    module = analysis(name)
    cached = cached_json(name, filters, lambda: module.run(filters).as_json())
    meta = orjson.dumps(answer_meta(name, filters), default=json_default)
    return meta[:-1] + b"," + cached[1:]


class AnalysisView(APIView):
    analysis_name = ""

    def answer(self, request):
        module = analysis(self.analysis_name)
        try:
            filters = request_filters(request.query_params, tuple(module.PARAMS))
            body = analysis_body(self.analysis_name, filters)  # an analysis checks its own parameters
        except InvalidFilter as error:
            return invalid_filters(error)
        return HttpResponse(body, content_type="application/json")


def _response_schema(name: str, module):
    figures = {
        figure: serializers.JSONField(help_text=str(description)) for figure, description in module.FIGURES.items()
    }
    camel = "".join(part.capitalize() for part in name.split("-"))
    return inline_serializer(
        f"Charging{camel}Analysis",
        {
            "analysis": serializers.CharField(),
            "filters": serializers.DictField(help_text="The filters applied, with the period's dates resolved."),
            "data_as_of": serializers.DateTimeField(allow_null=True, help_text="The last successful import."),
            "sources": serializers.ListField(child=serializers.DictField(), help_text="Each source's state."),
            **figures,
            "tables": serializers.DictField(
                child=serializers.DictField(), help_text="Per table key: title, columns (keys), rows (objects)."
            ),
            "charts": serializers.ListField(
                child=serializers.DictField(), help_text="key, title, kind, labels, datasets, table (its text twin)."
            ),
            "notes": serializers.ListField(child=serializers.CharField(), help_text="What could surprise, in a line."),
        },
    )


def _view_for(name: str) -> type[AnalysisView]:
    module = analysis(name)
    parameters = FILTER_PARAMETERS + [OpenApiParameter(param, description=_param_help(module, param))
                                      for param in module.PARAMS]  # fmt: skip

    @extend_schema(
        operation_id=f"charging_analysis_{name.replace('-', '_')}",
        summary=str(module.TITLE),
        description=(module.__doc__ or "").strip(),
        parameters=parameters,
        responses={200: _response_schema(name, module), 400: ErrorSerializer},
        tags=["charging"],
    )
    def get(self, request):
        return self.answer(request)

    camel = "".join(part.capitalize() for part in name.split("-"))
    return type(f"{camel}AnalysisView", (AnalysisView,), {"get": get, "analysis_name": name})


def _param_help(module, param: str) -> str:
    return str(getattr(module, "PARAM_HELP", {}).get(param, ""))  # not every analysis has parameters


class AnalysesIndexView(APIView):
    @extend_schema(
        summary="The charging analyses",
        responses={200: inline_serializer("ChargingAnalysisIndex", {"analyses": serializers.ListField()})},
        tags=["charging"],
    )
    def get(self, request):
        listed = [{"name": name, "title": str(analysis(name).TITLE), "params": list(analysis(name).PARAMS),
                   "url": request.build_absolute_uri(f"/api/v1/charging/analyses/{name}")}
                  for name in NAMES]  # fmt: skip
        return Response({"analyses": listed})


urlpatterns = [
    path("analyses", AnalysesIndexView.as_view(), name="charging-analyses"),
    *[path(f"analyses/{name}", _view_for(name).as_view(), name=f"charging-analysis-{name}") for name in NAMES],
]
