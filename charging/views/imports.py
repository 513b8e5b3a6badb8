"""Charging data sources, their imports, file uploads.

Everyone signed in sees the sources and the imports; only a tenant admin creates, edits or deletes a
source (its password is never shown back: left empty, the stored one is kept); admins and operators
test a connection, ask for an import (incremental or full) and upload files. A running import's
progress bar follows the tenant websocket's "charging.import" events (static/charging/imports.js),
and polls its fragment every 2 s while the socket is down."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from charging import selectors, services
from charging.models import ChargingSource, ImportRun, ImportStatus, SourceKind
from charging.views.common import SECTION, freshness
from core.http import client_ip

ADMIN = ("admin",)
IMPORTERS = ("admin", "operator")
EVERYONE = ("admin", "operator", "viewer")
SOURCE_FIELDS = [
    "name", "kind", "host", "port", "database", "user", "password", "sessions_table", "faults_table",
    "vehicles_table", "link_template", "time_zone", "margin_hours", "enabled",
]  # fmt: skip


class SourceForm(forms.ModelForm):
    password = forms.CharField(
        label=gettext_lazy("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Never shown again. Leave empty to keep the stored password."),
    )

    field_order = SOURCE_FIELDS

    class Meta:
        model = ChargingSource
        fields = [name for name in SOURCE_FIELDS if name != "password"]  # never copied onto the instance

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == SourceKind.MYSQL and not cleaned.get("host"):
            self.add_error("host", _("A MySQL source needs its host."))
        return cleaned


class UploadForm(forms.Form):
    sessions = forms.FileField(label=gettext_lazy("Sessions (kpi_sessions)"), required=False)
    faults = forms.FileField(label=gettext_lazy("Faults (kpi_defauts_log)"), required=False)
    vehicles = forms.FileField(label=gettext_lazy("MAC → vehicle (mac_lookup)"), required=False)


def _can(request, roles) -> bool:
    return request.user.role in roles


def _progress(run: ImportRun) -> dict:
    payload = selectors.run_payload(run)
    expected = run.rows_expected or 0
    payload["percent"] = min(100, round(run.rows_read / expected * 100)) if expected else None
    payload["open"] = run.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    return payload


@role_required(*EVERYONE)
def sources(request):
    page = Paginator(selectors.import_runs(), 25).get_page(request.GET.get("page"))
    for run in page:
        run.progress = _progress(run) if run.status in services.OPEN_STATUSES else None
    return render(
        request,
        "charging/sources.html",
        {
            "section": SECTION,
            "freshness": freshness(),
            "sources": selectors.charging_sources(),
            "runs": page,
            "can_admin": _can(request, ADMIN),
            "can_import": _can(request, IMPORTERS),
            "upload_form": UploadForm(),
        },
    )


@role_required(*ADMIN)
def source_form(request, pk: int | None = None):
    source = get_object_or_404(ChargingSource, pk=pk) if pk else None
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in SOURCE_FIELDS}
        try:
            if source is None:
                source = services.source_create(by=request.user, ip_address=client_ip(request), **fields)
                messages.success(request, _("Source %(name)s added.") % {"name": source.name})
            else:
                services.source_update(source=source, by=request.user, ip_address=client_ip(request), **fields)
                messages.success(request, _("Source %(name)s saved.") % {"name": source.name})
        except ValidationError as error:
            for field, reasons in error.message_dict.items():
                form.add_error(field if field in form.fields else None, reasons)
        else:
            return redirect("charging:sources")
    return render(
        request,
        "charging/source_form.html",
        {
            "section": SECTION,
            "freshness": freshness(),
            "form": form,
            "source": source,
            "has_password": bool(source and source.password),
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required(*ADMIN)
def source_delete(request, pk: int):
    source = get_object_or_404(ChargingSource, pk=pk)
    if request.method == "POST":
        services.source_delete(source=source, by=request.user, ip_address=client_ip(request))
        messages.success(request, _("Source %(name)s deleted, with its data.") % {"name": source.name})
        return redirect("charging:sources")
    return render(
        request,
        "charging/source_delete.html",
        {"section": SECTION, "freshness": freshness(), "source": source, "sessions": source.sessions.count()},
    )


@role_required(*IMPORTERS)
@require_POST
def source_test(request, pk: int):
    source = get_object_or_404(ChargingSource, pk=pk)
    report = services.source_test_connection(source=source)
    return render(request, "charging/_test_result.html", {"source": source, "report": report})


@role_required(*IMPORTERS)
@require_POST
def source_import(request, pk: int):
    source = get_object_or_404(ChargingSource, pk=pk)
    full = request.POST.get("full") == "1"
    run = services.import_request(source=source, trigger="portal", full=full, by=request.user)
    messages.success(
        request,
        (_("Full re-import of %(name)s queued.") if full else _("Import of %(name)s queued.")) % {"name": source.name},
    )
    return redirect("charging:import", pk=run.pk)


@role_required(*IMPORTERS)
@require_POST
def source_upload(request, pk: int):
    source = get_object_or_404(ChargingSource, pk=pk)
    form = UploadForm(request.POST, request.FILES)
    files = {name: upload for name, upload in request.FILES.items() if name in form.fields}
    try:
        run = services.import_upload(source=source, files=files, by=request.user)
    except ValidationError as error:
        for field, reasons in error.message_dict.items():
            form.add_error(field if field in form.fields else None, reasons)
        return render(
            request,
            "charging/upload.html",
            {"section": SECTION, "freshness": freshness(), "source": source, "upload_form": form},
            status=400,
        )
    messages.success(request, _("Files received: the import is queued."))
    return redirect("charging:import", pk=run.pk)


@role_required(*EVERYONE)
def import_detail(request, pk: int):
    run = get_object_or_404(ImportRun.objects.select_related("source", "requested_by"), pk=pk)
    rejects = Paginator(run.rejects or [], 100).get_page(request.GET.get("page"))
    return render(
        request,
        "charging/import_detail.html",
        {"section": SECTION, "freshness": freshness(), "run": run, "progress": _progress(run), "rejects": rejects},
    )


@role_required(*EVERYONE)
def import_progress(request, pk: int):
    """The progress fragment of one run: what the poll (socket down) swaps in."""
    run = get_object_or_404(ImportRun, pk=pk)
    return render(request, "charging/_import_progress.html", {"run": run, "progress": _progress(run)})


urlpatterns = [
    path("sources/", sources, name="sources"),
    path("sources/new/", source_form, name="source-new"),
    path("sources/<int:pk>/", source_form, name="source-edit"),
    path("sources/<int:pk>/delete/", source_delete, name="source-delete"),
    path("sources/<int:pk>/test/", source_test, name="source-test"),
    path("sources/<int:pk>/import/", source_import, name="source-import"),
    path("sources/<int:pk>/upload/", source_upload, name="source-upload"),
    path("imports/<int:pk>/", import_detail, name="import"),
    path("imports/<int:pk>/progress/", import_progress, name="import-progress"),
]
