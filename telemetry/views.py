"""Portal pages of the asset hierarchy: lists with filters, live asset pages, sites, forms, exports.

Batteries and meters share one set of views, parametrised by the asset kind (`KINDS`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.services import create_api_key
from portal.sections import SECTION_BY_SLUG
from telemetry import selectors, services
from telemetry.api.series import export_response
from telemetry.forms import AssetTypeForm, SiteForm
from telemetry.listing import KINDS, Kind, asset_list_table, filtered, kind_named, rows_with_latest
from telemetry.metrics import METRIC_BY_NAME
from telemetry.models import AssetType, Chemistry, Site
from telemetry.series import latest

EDITORS = ("admin", "operator")


@login_required
def asset_list(request, kind: str):
    kind = kind_named(kind)
    page = Paginator(filtered(kind, request.GET), 50).get_page(request.GET.get("page"))
    context = {
        "section": SECTION_BY_SLUG[kind.section],
        "kind": kind,
        "page": page,
        "rows": rows_with_latest(kind, list(page.object_list)),
        "sites": Site.objects.all(),
        "types": AssetType.objects.filter(kind=kind.name),
        "chemistries": Chemistry.choices,
        "states": selectors.ASSET_STATES,
        "filters": request.GET,
        "query": request.GET.urlencode(),
        "can_edit": request.user.role in EDITORS,
    }
    template = "telemetry/_asset_rows.html" if request.headers.get("HX-Request") else "telemetry/asset_list.html"
    return render(request, template, context)


def _metric_cards(kind: Kind, values: dict) -> list[dict]:
    catalogue = METRIC_BY_NAME[kind.name]
    return [
        {"name": name, "label": catalogue[name].label, "unit": catalogue[name].unit, "value": values.get(name)}
        for name in catalogue
        if catalogue[name].kind in ("float", "int", "text", "bool")
    ]


@login_required
def asset_detail(request, kind: str, pk: int):
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model.objects.select_related("site", "type"), pk=pk)
    last = latest(kind.name, [asset.pk]).get(asset.pk)
    recent = selectors.recent_readings(kind.name, asset.pk, 10)
    threshold = getattr(asset, "power_alert_threshold", None)
    context = {
        "section": SECTION_BY_SLUG[kind.section],
        "kind": kind,
        "asset": asset,
        "latest": last,
        "cards": _metric_cards(kind, last["values"] if last else {}),
        "recent": recent,
        "over_threshold": bool(threshold is not None and last and (last["values"].get("power") or 0) > threshold),
        "thresholds": services.asset_thresholds(kind.name, asset),
        "custom": [
            (d["label"], asset.custom_values.get(d["name"])) for d in (asset.type.custom_fields if asset.type else [])
        ],
        "ref": getattr(asset, kind.ref_field),
        "live_config": {
            "kind": kind.name,
            "asset": asset.pk,
            "series": reverse("telemetry-series"),
            "threshold": threshold,
            "cells": kind.name == "battery",
            "initial_cells": (last["values"].get("cell_voltages") if last else None),
            "tz": request.tenant.timezone,
        },
        "can_edit": request.user.role in EDITORS,
        "new_key": request.session.pop(f"new_key_{kind.name}_{asset.pk}", None),
        "export_query": f"assets={kind.name}:{asset.pk}",
    }
    return render(request, "telemetry/asset_detail.html", context)


@role_required(*EDITORS)
def asset_form(request, kind: str, pk: int | None = None):
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model, pk=pk) if pk else kind.model()
    asset_type = asset.type if pk else None
    if not pk and request.GET.get("type", "").isdigit():
        asset_type = AssetType.objects.filter(pk=int(request.GET["type"]), kind=kind.name).first()
        asset.type = asset_type
    form = kind.form(request.POST or None, instance=asset, asset_type=asset_type)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if kind.name == "battery":
            services.set_asset_thresholds("battery", saved, form.thresholds())
        else:
            services.sync_meter_threshold(saved)
        messages.success(request, _("Saved."))
        return redirect("telemetry:asset", kind=kind.name, pk=saved.pk)
    context = {
        "section": SECTION_BY_SLUG[kind.section],
        "kind": kind,
        "form": form,
        "asset": asset if pk else None,
        "types": AssetType.objects.filter(kind=kind.name),
        "chosen_type": asset_type,
    }
    return render(request, "telemetry/asset_form.html", context)


@role_required("admin")
def asset_delete(request, kind: str, pk: int):
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model, pk=pk)
    if request.method == "POST":
        services.delete_asset(kind.name, asset, by=request.user)
        messages.success(request, _("Deleted, with its readings."))
        return redirect(f"telemetry:{kind.section}")
    return render(
        request, "telemetry/asset_delete.html", {"section": SECTION_BY_SLUG[kind.section], "kind": kind, "asset": asset}
    )


@role_required(*EDITORS)
@require_POST
def asset_key(request, kind: str, pk: int):
    kind = kind_named(kind)
    asset = get_object_or_404(kind.model, pk=pk)
    _key, token = create_api_key(
        name=f"{asset.name} ({getattr(asset, kind.ref_field)})",
        scopes=["ingest"],
        bound_to=f"{kind.name}:{asset.pk}",
        created_by=request.user,
    )
    request.session[f"new_key_{kind.name}_{asset.pk}"] = token
    return redirect("telemetry:asset", kind=kind.name, pk=asset.pk)


@login_required
def asset_list_export(request, kind: str, fmt: str):
    kind = kind_named(kind)
    table = asset_list_table(kind, request.GET, request.tenant.timezone)
    return export_response(table, fmt, f"voltwatch-{kind.section}")


@login_required
def site_list(request):
    sites = Site.objects.order_by("name")
    return render(
        request,
        "telemetry/site_list.html",
        {"section": SECTION_BY_SLUG["batteries"], "sites": sites, "can_edit": request.user.role in EDITORS},
    )


@login_required
def site_detail(request, code: str):
    site = get_object_or_404(Site, code=code)
    groups = [
        (KINDS["battery"], rows_with_latest(KINDS["battery"], list(site.batteries.select_related("type", "site")))),
        (KINDS["meter"], rows_with_latest(KINDS["meter"], list(site.meters.select_related("type", "site")))),
    ]
    return render(
        request,
        "telemetry/site_detail.html",
        {
            "section": SECTION_BY_SLUG["batteries"],
            "site": site,
            "groups": groups,
            "can_edit": request.user.role in EDITORS,
        },
    )


@role_required(*EDITORS)
def site_form(request, code: str | None = None):
    site = get_object_or_404(Site, code=code) if code else Site()
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        return redirect("telemetry:site", code=saved.code)
    return render(
        request, "telemetry/simple_form.html", {"section": SECTION_BY_SLUG["batteries"], "form": form,
                                                "title": site.name if code else _("New site")}
    )  # fmt: skip


@login_required
def type_list(request):
    return render(
        request,
        "telemetry/type_list.html",
        {
            "section": SECTION_BY_SLUG["batteries"],
            "types": AssetType.objects.all(),
            "can_edit": request.user.role in EDITORS,
        },
    )


@role_required(*EDITORS)
def type_form(request, pk: int | None = None):
    asset_type = get_object_or_404(AssetType, pk=pk) if pk else AssetType()
    form = AssetTypeForm(request.POST or None, instance=asset_type)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("telemetry:types")
    return render(
        request, "telemetry/simple_form.html", {"section": SECTION_BY_SLUG["batteries"], "form": form,
                                                "title": asset_type.name if pk else _("New asset type")}
    )  # fmt: skip
