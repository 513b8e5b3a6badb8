"""`GET /api/v1/charging/sessions`: every session with all its fields and how its type and moment
were derived, under the shared filters plus `q` and `status`, newest first, paged by cursor; and the
same list as CSV or XLSX (`/api/v1/charging/sessions/export/<csv|xlsx>`)."""

from datetime import datetime

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from charging import exports, selectors
from charging.analyses.sql import site_labels
from charging.api.analyses import FILTER_PARAMETERS, invalid_filters, request_filters
from charging.filters import InvalidFilter
from core.api.errors import error_body
from core.api.schema import ErrorSerializer
from core.exports import XLSX_TYPE

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
LIST_PARAMS = ("q", "status")
LIST_PARAMETERS = [
    *FILTER_PARAMETERS,
    OpenApiParameter("q", description="Part of the session ID, the MAC or the vehicle (any case)."),
    OpenApiParameter("status", enum=["ok", "failed"], description="failed: counted as failed under the filters."),
]


class SessionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The source's ID.")
    site = serializers.CharField(help_text="The site's code.")
    site_name = serializers.CharField()
    project = serializers.CharField()
    charge_point = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_s = serializers.IntegerField(help_text="End − start; a negative one counts 0.")
    outcome = serializers.IntegerField(allow_null=True, help_text="0 good, 1 error; null counts as good.")
    is_ok = serializers.BooleanField()
    error_type = serializers.CharField(help_text="Erreur_EVI, Erreur_DownStream or Erreur_Unknow_S.")
    moment = serializers.CharField()
    moment_group = serializers.CharField(help_text="moment_avancee.")
    derivation = serializers.CharField(help_text='How type and moment follow from the codes ("DS 8192 → EVI …").')
    energy_kwh = serializers.FloatField(allow_null=True)
    mean_power_kw = serializers.FloatField(allow_null=True)
    max_power_kw = serializers.FloatField(allow_null=True)
    soc_start = serializers.FloatField(allow_null=True)
    soc_end = serializers.FloatField(allow_null=True)
    evi_code = serializers.IntegerField(allow_null=True)
    downstream_code = serializers.IntegerField(allow_null=True)
    evi_step = serializers.IntegerField(allow_null=True)
    mac = serializers.CharField()
    vehicle = serializers.CharField()
    charge_900v = serializers.BooleanField(allow_null=True)
    warning = serializers.CharField()
    link = serializers.CharField(help_text="The session in the operator's console ('' without a template).")


class SessionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Sessions under these filters.")
    next = serializers.CharField(allow_null=True, help_text="The next page, or null.")
    results = SessionSerializer(many=True)


def _cursor(value: str) -> tuple | None:
    """`<started_at ISO>|<pk>` of the previous page's last session."""
    started, _sep, pk = value.rpartition("|")
    try:
        return datetime.fromisoformat(started), int(pk)
    except ValueError:
        raise InvalidFilter({"cursor": _("Use the `next` address of the previous page.")}) from None


def _listed(request):
    filters = request_filters(request.query_params, LIST_PARAMS)
    status_wanted = filters.extra.get("status", "")
    if status_wanted not in ("", "ok", "failed"):
        raise InvalidFilter({"status": _("Choose ok or failed (or leave it out).")})
    return filters, selectors.sessions_list(filters, filters.extra.get("q", ""), status=status_wanted)


def _row(session, labels: dict, links: dict, derivations: exports.Derivations) -> dict:
    site = labels.get(session.site_id, {"site": "", "code": ""})
    key = (session.outcome, session.downstream_code, session.evi_code, session.evi_step)
    return {
        "id": session.external_id, "site": site["code"], "site_name": site["site"], "project": session.cp_project,
        "charge_point": session.cp_name, "started_at": session.started_at, "ended_at": session.ended_at,
        "duration_s": session.duration_s, "outcome": session.outcome, "is_ok": session.is_ok,
        "error_type": session.error_type, "moment": session.moment, "moment_group": session.moment_group,
        "derivation": derivations[key], "energy_kwh": session.energy_kwh, "mean_power_kw": session.mean_power_kw,
        "max_power_kw": session.max_power_kw, "soc_start": session.soc_start, "soc_end": session.soc_end,
        "evi_code": session.evi_code, "downstream_code": session.downstream_code, "evi_step": session.evi_step,
        "mac": session.mac, "vehicle": session.vehicle, "charge_900v": session.charge_900v,
        "warning": session.warning, "link": selectors.session_link(links, session.external_id, session.source_id),
    }  # fmt: skip


class SessionListView(APIView):
    @extend_schema(
        parameters=[*LIST_PARAMETERS, OpenApiParameter("cursor", description="From the previous page's `next`."),
                    OpenApiParameter("page_size", int, description=f"1–{MAX_PAGE_SIZE} (default {PAGE_SIZE}).")],
        responses={200: SessionPageSerializer, 400: ErrorSerializer},
        summary="The charging sessions, newest first",
        tags=["charging"],
    )  # fmt: skip
    def get(self, request):
        try:
            filters, found = _listed(request)
            after = _cursor(request.query_params["cursor"]) if request.query_params.get("cursor") else None
        except InvalidFilter as error:
            return invalid_filters(error)
        size = request.query_params.get("page_size", str(PAGE_SIZE))
        if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE_SIZE:
            detail = _("Ask for 1 to %(max)s sessions a page.") % {"max": MAX_PAGE_SIZE}
            return Response(error_body("invalid", detail, {"page_size": detail}), status=status.HTTP_400_BAD_REQUEST)
        size = int(size)
        page_source = selectors.sessions_list(filters, filters.extra.get("q", ""),
                                              status=filters.extra.get("status", ""), after=after)  # fmt: skip
        page = list(exports.session_values(page_source)[: size + 1])
        more, page = len(page) > size, page[:size]
        labels = site_labels(s.site_id for s in page)
        links, derivations = selectors.session_links(), exports.Derivations()
        next_url = None
        if more:
            query = request.query_params.copy()
            query["cursor"] = f"{page[-1].started_at.isoformat()}|{page[-1].pk}"
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"count": found.count(), "next": next_url,
                         "results": [_row(s, labels, links, derivations) for s in page]})  # fmt: skip


class SessionExportView(APIView):
    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses={(200, "text/csv"): bytes, (200, XLSX_TYPE): bytes, 400: ErrorSerializer},
        summary="The charging sessions as CSV or XLSX",
        tags=["charging"],
    )
    def get(self, request, fmt: str):
        if fmt not in ("csv", "xlsx"):
            detail = _("Export as csv or xlsx.")
            return Response(error_body("invalid", detail, {"format": detail}), status=status.HTTP_400_BAD_REQUEST)
        try:
            filters, found = _listed(request)
        except InvalidFilter as error:
            return invalid_filters(error)
        return exports.sessions_download(found, filters, fmt, request=request)


urlpatterns = [
    path("sessions", SessionListView.as_view(), name="charging-sessions"),
    path("sessions/export/<str:fmt>", SessionExportView.as_view(), name="charging-sessions-export"),
]
