"""The imports over the API: `POST /api/v1/charging/refresh` (202 and the jobs to poll),
`GET /api/v1/charging/imports[/<id>]`, and `POST /api/v1/charging/uploads` (CSV or XLSX exports of
the three tables, for a customer whose MySQL we cannot reach)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from charging import selectors, services
from charging.models import ChargingSource, ImportRun, ImportTrigger, SourceKind
from core.api.errors import error_body
from core.api.pagination import StandardPagination
from core.api.parsers import CheckedMultiPartParser, FastJSONParser
from core.api.schema import ErrorSerializer


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="Poll it for the job's state.")
    source = serializers.IntegerField()
    trigger = serializers.CharField()
    full = serializers.BooleanField()
    status = serializers.ChoiceField(["queued", "running", "succeeded", "failed"])
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    rows_read = serializers.IntegerField()
    rows_expected = serializers.IntegerField(allow_null=True)
    rows_created = serializers.IntegerField()
    rows_updated = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    error = serializers.CharField()


class JobDetailSerializer(JobSerializer):
    rejects = serializers.ListField(
        child=serializers.DictField(), help_text="The first 1,000 refused rows: table, id, reason."
    )


class JobsSerializer(serializers.Serializer):
    jobs = JobSerializer(many=True)


class ImportPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = JobSerializer(many=True)


def job(request, run: ImportRun, *, detail: bool = False) -> dict:
    body = {**selectors.run_payload(run), "url": request.build_absolute_uri(f"/api/v1/charging/imports/{run.pk}")}
    if detail:
        body["rejects"] = run.rejects
    return body


def _not_found(field: str, value) -> Response:
    detail = _("No charging source %(value)s here.") % {"value": value}
    return Response(error_body("invalid", detail, {field: detail}), status=status.HTTP_400_BAD_REQUEST)


class RefreshSerializer(serializers.Serializer):
    source = serializers.IntegerField(required=False, help_text="One source's id (default: every enabled source).")
    full = serializers.BooleanField(required=False, default=False, help_text="Read every session again.")


class RefreshView(APIView):
    parser_classes = [FastJSONParser]

    @extend_schema(
        request=RefreshSerializer,
        responses={202: JobsSerializer, 400: ErrorSerializer},
        summary="Import the charging sources now",
        description="Queues an import of each source (one already queued or running is returned instead).",
        tags=["charging"],
    )
    def post(self, request):
        form = RefreshSerializer(data=request.data or {})
        form.is_valid(raise_exception=True)
        sources = ChargingSource.objects.filter(enabled=True, kind=SourceKind.MYSQL)
        if "source" in form.validated_data:
            sources = ChargingSource.objects.filter(pk=form.validated_data["source"])
            if not sources:
                return _not_found("source", form.validated_data["source"])
        if not sources:
            detail = _("No database source to read here: a file source is imported by uploading its files "
                       "(POST /api/v1/charging/uploads).")  # fmt: skip
            return Response(error_body("invalid", detail, {"source": detail}), status=status.HTTP_400_BAD_REQUEST)
        runs = [services.import_request(source=source, trigger=ImportTrigger.API, full=form.validated_data["full"],
                                        by=request.user) for source in sources]  # fmt: skip
        return Response({"jobs": [job(request, run) for run in runs]}, status=status.HTTP_202_ACCEPTED)


class ImportListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("source", int, description="Only this source's imports.")],
        responses={200: ImportPageSerializer},
        summary="The imports, newest first",
        tags=["charging"],
    )
    def get(self, request):
        source = request.query_params.get("source")
        if source is not None and not source.isdigit():
            return _not_found("source", source)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.import_runs(int(source) if source else None), request, view=self)
        return paginator.get_paginated_response([job(request, run) for run in page])


class ImportDetailView(APIView):
    @extend_schema(responses={200: JobDetailSerializer, 404: ErrorSerializer}, summary="One import", tags=["charging"])
    def get(self, request, run_id: int):
        return Response(job(request, get_object_or_404(selectors.import_runs(), pk=run_id), detail=True))


class UploadView(APIView):
    parser_classes = [CheckedMultiPartParser]

    @extend_schema(
        request={"multipart/form-data": inline_serializer("ChargingUpload", {
            "source": serializers.IntegerField(help_text="The source the files are exports of."),
            "sessions": serializers.FileField(required=False, help_text="kpi_sessions as .csv or .xlsx"),
            "faults": serializers.FileField(required=False, help_text="kpi_defauts_log as .csv or .xlsx"),
            "vehicles": serializers.FileField(required=False, help_text="mac_lookup as .csv or .xlsx")})},
        responses={202: JobSerializer, 400: ErrorSerializer},
        summary="Import CSV or XLSX exports of the three tables",
        tags=["charging"],
    )  # fmt: skip
    def post(self, request):
        raw = request.data.get("source", "")
        source = ChargingSource.objects.filter(pk=int(raw)).first() if str(raw).isdigit() else None
        if source is None:
            return _not_found("source", raw or "—")
        files = {name: upload for name, upload in request.FILES.items()}
        try:
            run = services.import_upload(source=source, files=files, by=request.user)
        except ValidationError as error:
            fields = {name: " ".join(messages) for name, messages in error.message_dict.items()}
            detail = _("Nothing was imported: fix the files named below.")
            return Response(error_body("invalid", detail, fields), status=status.HTTP_400_BAD_REQUEST)
        return Response(job(request, run), status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("refresh", RefreshView.as_view(), name="charging-refresh"),
    path("imports", ImportListView.as_view(), name="charging-imports"),
    path("imports/<int:run_id>", ImportDetailView.as_view(), name="charging-import"),
    path("uploads", UploadView.as_view(), name="charging-uploads"),
]
